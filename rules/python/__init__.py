"""The Python analyzer: one walk (`walker.py`) running the concerns of `concerns/`; syntax in, catalog keys out."""
