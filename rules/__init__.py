"""The rule catalog (data in `catalog/*.toml`) and the detectors per file kind."""
