"""Ingest: every reading that reaches the broker, stored exactly once, whatever its format.

`ingest.service.run_ingest` is the process; `ingest.decoders.decode` the public decoder. See
README.md beside this file for the formats, settings and guarantees.
"""
