"""The rule catalog (data in `data/*.toml`) and the detectors per file kind."""
