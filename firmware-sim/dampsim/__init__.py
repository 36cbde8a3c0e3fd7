"""firmware-sim/dampsim"""
