"""Which rules run on which file: `select`, `ignore` and `per-file-ignores`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cudaudit.discovery import gitignore_spec
from cudaudit.rules.catalog import Catalog

if TYPE_CHECKING:
    import pathspec


class SelectionError(ValueError):
    """A selector names no rule: almost always a typo the user wants to hear about."""


@dataclass(frozen=True)
class RuleSelection:
    enabled: frozenset[str]
    per_file: tuple[tuple[pathspec.GitIgnoreSpec, frozenset[str]], ...]
    root: Path

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        select: list[str],
        ignore: list[str],
        per_file_ignores: dict[str, tuple[str, ...]],
        root: Path,
    ) -> RuleSelection:
        """Ids and prefixes resolved against the catalog; unknown ones are an error."""
        chosen = _resolve(catalog, select, "select") if select else set(catalog.rules)
        enabled = frozenset(chosen - _resolve(catalog, ignore, "ignore"))
        per_file = tuple(
            (
                gitignore_spec([pattern]),
                frozenset(_resolve(catalog, list(ids), f"per-file-ignores {pattern!r}")),
            )
            for pattern, ids in per_file_ignores.items()
        )
        return cls(enabled, per_file, root)

    def rules_for(self, path: Path) -> frozenset[str]:
        """The rule ids to report for `path`."""
        if not self.per_file:
            return self.enabled
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            return self.enabled
        disabled: set[str] = set()
        for spec, ids in self.per_file:
            if spec.match_file(relative):
                disabled |= ids
        return self.enabled - disabled


def _resolve(catalog: Catalog, selectors: list[str], where: str) -> set[str]:
    ids: set[str] = set()
    for selector in selectors:
        matched = catalog.select([selector.strip().upper()])
        if not matched:
            raise SelectionError(f"{where}: {selector!r} matches no rule; `cudaudit rules` lists them")
        ids |= matched
    return ids
