"""dampwatch"""
