"""The rule catalog (`catalog.py`, data in `data/*.toml`), the registry from its strings to their code
(`registry.py`), and the analyzers per file kind."""
