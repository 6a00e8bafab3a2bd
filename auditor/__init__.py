"""cudaudit: find CUDA lock-in in ML code and say what each target backend needs."""

__version__ = "0.1.0"

PROJECT_URL = "https://github.com/cudaudit/cudaudit"
"""The project's home, where its README and rule reference are published."""
RULES_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"
"""The rule reference (`docs/rules.md`); each rule is a heading whose anchor `ruledocs.rule_anchor` gives."""
