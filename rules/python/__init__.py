"""Detectors for Python sources: syntax in, catalog keys out."""
