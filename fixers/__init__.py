"""Codemods that rewrite findings toward device-agnostic code (`cudaudit fix`)."""
