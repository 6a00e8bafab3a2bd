"""Load the rule catalog from `data/*.toml` and turn detector hits into findings.

The catalog is the single place that says what is CUDA lock-in and what replaces it on
each target; detectors only recognise syntax and ask the catalog about the key they saw.
See docs/catalog-format.md for the file format.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import ahocorasick_rs
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from cudaudit.filekinds import EMBEDDED_KINDS, FileKind
from cudaudit.model import TARGETS, Finding, Fix, Portability, Safety, Severity, Span, Status
from cudaudit.releases import first_working
from cudaudit.rules.registry import DETECTORS, FIX_BUILDERS, made_for_one_target

DATA_FOLDER = Path(__file__).with_name("data")
"""The shipped catalog, beside this module (`importlib.resources` would find the same folder, and
import `zipfile` for it: a twentieth of start-up)."""

PREFIX_DETECTORS = frozenset({"symbol", "import"})
"""Detectors whose keys are dotted names: a key also matches every name below it."""
_CANONICAL_LIMIT = 100_000
"""Names whose canonical form a catalog keeps: a bound on what a scan of any size holds."""

KEYLESS_DETECTORS = frozenset({"device-string", "dist-backend", "ddp-device-ids", "suppression", "unused-suppression"})
"""Detectors that recognise one shape of syntax and report it under the empty key.

Every other detector name is an exact-key detector. Every detector string must be one that
`cudaudit.rules.registry` maps to the modules that report it."""


class CatalogError(ValueError):
    """The shipped catalog data is malformed: a bug in cudaudit, reported with its location."""


@dataclass(frozen=True)
class Example:
    """A snippet from a rule's own documentation that doubles as its test."""

    code: str
    severity: Severity | None = None
    files: dict[str, str] = field(default_factory=dict)
    """Other files of the example's project (path -> text), for rules whose verdict depends on
    them: a compatibility header, a build script, a ROCm counterpart."""
    path: str | None = None
    """The file name this example is analysed under, when not the rule's (`pyproject.toml` for
    a rule whose other examples are requirements files)."""


@dataclass(frozen=True)
class FixPolicy:
    """Which rewrite a key's sites get, and how safely.

`kind` names a builder in `cudaudit.rules.registry.FIX_BUILDERS`. Python kinds rewrite code so
    that it runs everywhere; the others (dependency files, Dockerfiles, workflows) rewrite a file
    for one named target, with `to` giving, per target, what replaces the key where no table
    computes it (an image template with `{placeholders}`); packages are mapped by the entry's `builds`.
    """

    kind: str
    safety: Safety
    to: dict[str, str] = field(default_factory=dict)


TOPICS = ("attention", "serving", "quantization")
"""Parts of the stack that cut across files; a rule or entry may name one (`topic = "attention"`)."""
EFFORT_LEVELS = ("low", "medium", "high")
"""SYCLomatic's three effort levels for a migration diagnostic: minutes and mechanical, hours, a rewrite."""


@dataclass(frozen=True)
class Effort:
    """What porting one site of a rule takes, graded as SYCLomatic grades its migration diagnostics.

    `change` applies where the target has a replacement, `blocked` where it has none. `like` names
    the SYCLomatic diagnostic graded alike, where one exists (`DPCT1053 DEVICE_ASM`).
    """

    change: str
    blocked: str
    why: str
    like: str | None = None
    source: str | None = None

    def level(self, status: Status) -> str:
        return self.blocked if status is Status.BLOCKED else self.change


AVAILABILITY = ("yes", "from-source", "no")
"""Whether a build of a CUDA-bound package exists for a target: as a wheel, only built from source, or not at all."""
BUILD_ACTIONS = ("swap", "keep", "drop", "manual")
"""What a variant of a dependency set does with the package: install `package` instead, keep the line, remove
it, or leave it for a person (nothing mechanical is right)."""


@dataclass(frozen=True)
class TargetBuild:
    """Which build of a CUDA-bound package serves one target, for some of the package's releases.

    `cudaudit resolve` and `cudaudit fix --target` rewrite a requirement with it, and the
    feasibility verdict (`cudaudit.resolvers.feasibility`) reports it; see docs/catalog-format.md.
    """

    available: str
    action: str
    source: str
    versions: SpecifierSet | None = None
    """The releases of the CUDA-bound package this row is about; None: every release."""
    package: str | None = None
    """`swap`: the distribution installed instead (`cupy-rocm-5-0`), without extras."""
    version: str | None = None
    """`swap`: the releases of `package` to ask for (`>=0.49`); "" any; None: the same version as before."""
    pytorch_index: dict[str, str] = field(default_factory=dict)
    """Served by PyTorch's wheel index of the target: torch release (`2.4`) -> the ROCm tag whose index
    carries a build (`rocm6.1`), or `cpu`. A torch release not listed has no build."""
    min_rocm: str | None = None
    """The oldest ROCm the build supports (`6.0`): the torch release's ROCm index must be this or newer."""
    note: str = ""
    replacement: str | None = None
    """For people, where the row installs nothing that works: what to do instead (default: the target's
    `replacement`)."""

    def covers(self, specifier: SpecifierSet) -> bool:
        """Whether a requirement with `specifier` may resolve to one of this row's releases."""
        return self.versions is None or specifiers_overlap(specifier, self.versions)


@dataclass(frozen=True)
class FixExample:
    """A rule's fix shown on code: `after` is `before` fixed with --unsafe-fixes (and `--target target`)."""

    before: str
    after: str
    target: str | None = None
    """The one target a dependency or Dockerfile fix is made for; None for Python fixes."""


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    summary: str
    message: str
    why: str
    detector: str
    kind: str
    severity: Severity
    """The severity when none of the requested targets has a fact (cudaudit's own rules)."""
    triggers: tuple[str, ...]
    trigger_pattern: str | None
    """A regular expression for what plain trigger words cannot pin down cheaply."""
    matches: tuple[str, ...]
    targets: dict[str, Portability]
    flagged: tuple[Example, ...]
    clean: tuple[Example, ...]
    example_path: str | None = None
    """The file name the examples are analysed under, when the kind's usual one does not fit."""
    also_kinds: tuple[str, ...] = ()
    """Further file kinds whose analyzers report this rule; their prefilter uses its triggers too."""
    fix: FixPolicy | None = None
    fixed: tuple[FixExample, ...] = ()
    """Examples of the fix, checked by the tests."""
    builds: dict[str, tuple[TargetBuild, ...]] = field(default_factory=dict)
    """Per target, which build of a package serves it (dependency rules; see `TargetBuild`)."""
    topic: str | None = None
    """The part of the stack its sites belong to (one of `TOPICS`), when it is one."""
    effort: Effort | None = None
    """What porting a site takes, from `effort.toml`."""
    defined_in: str = ""
    """The catalog file (in `rules/data/`) that holds the rule's table."""
    group: str | None = None
    """`file`: the rule's sites in one file are one verdict (CUTLASS, inline PTX), reported once.
    `project`: the finding is about the whole project, anchored at one site (no CI job on CPU or
    ROCm); it is never merged with the site's own findings."""
    whole_file: bool = False
    """With `group = "file"`: a construct no ROCm build can compile in any form (CUTLASS/CuTe), which
    makes its file NVIDIA-only as a whole; the file's other CUDA C++ sites join its finding."""


@dataclass(frozen=True)
class Entry:
    """A key a detector can report, with the facts that apply to it."""

    rule: Rule
    match: str
    message: str
    targets: dict[str, Portability]
    redundant_with: tuple[str, ...] = ()
    """Device-agnostic calls that, made in the same module, already do this one's job."""
    fix: FixPolicy | None = None
    builds: dict[str, tuple[TargetBuild, ...]] = field(default_factory=dict)
    """Per target, which build of the package serves it; targets not given fall back to the rule's."""
    topic: str | None = None
    """The rule's topic unless the entry names its own (`flash-attn` as a requirement is `attention`)."""
    defined_in: str = ""
    """The catalog file (in `rules/data/`) that holds the entry's table, when it has one of its own."""


class Catalog:
    """All rules and the keys that map detector hits onto them."""

    def __init__(
        self,
        rules: Iterable[Rule],
        entries: Iterable[Entry],
        aliases: dict[str, str] | None = None,
        tables: dict[str, list[tuple[str, Any]]] | None = None,
        digest: str = "",
    ) -> None:
        self.digest = digest
        """Of the TOML the catalog was read from: what a cache of results made with it is keyed by."""
        self._aliases = aliases or {}
        self._canonical: dict[str, str] = {}
        self._tables = tables or {}
        self.rules: dict[str, Rule] = {}
        for rule in rules:
            if rule.id in self.rules:
                raise CatalogError(f"rule {rule.id} is defined twice")
            self.rules[rule.id] = rule
        self._entries: dict[str, dict[str, Entry]] = {}
        for entry in entries:
            table = self._entries.setdefault(entry.rule.detector, {})
            if entry.match in table:
                other = table[entry.match].rule.id
                raise CatalogError(f"key {entry.match!r} is claimed by {other} and {entry.rule.id}")
            table[entry.match] = entry
        self.rules = dict(sorted(self.rules.items()))
        words: dict[str, set[bytes]] = {}
        patterns: dict[str, list[str]] = {}
        for rule in self.rules.values():
            for kind in (rule.kind, *rule.also_kinds):
                words.setdefault(kind, set()).update(t.encode() for t in rule.triggers)
                if rule.trigger_pattern:
                    patterns.setdefault(kind, []).append(rule.trigger_pattern)
        for kind, parts in EMBEDDED_KINDS.items():
            for part in parts:
                words.setdefault(kind.value, set()).update(words.get(part.value, ()))
                if patterns.get(part.value):
                    patterns.setdefault(kind.value, []).extend(patterns[part.value])
        self._triggers = {kind: tuple(sorted(found)) for kind, found in words.items()}
        self._prefilter: dict[str, WordSearch | None] = {}
        """Per kind, an automaton that finds any of its trigger words in one pass over a file
        (`word_automaton`), made for the kinds a scan meets."""
        self._trigger_sources = {kind: "|".join(f"(?:{p})" for p in found) for kind, found in patterns.items()}
        self._trigger_patterns: dict[str, re.Pattern[bytes] | None] = {}
        """Per kind, its rules' trigger patterns as one, compiled for the kinds a scan meets."""

    def lookup(self, detector: str, key: str) -> Entry | None:
        """The entry for `key`; for dotted-name detectors the longest matching prefix."""
        table = self._entries.get(detector)
        if not table:
            return None
        if detector not in PREFIX_DETECTORS:
            return table.get(key)
        name = self.canonical(key)
        entry = table.get(name)
        while entry is None and "." in name:
            name = name.rpartition(".")[0]
            # `torch.cuda.*` answers for names below torch.cuda, not for torch.cuda itself.
            entry = table.get(name + ".*") or table.get(name)
        return entry

    def lookup_setting(self, detector: str, name: str, value: str | None) -> Entry | None:
        """The entry for setting `name` to `value`: `NAME=value`'s own where the catalog has one
        (`CUDA_LAUNCH_BLOCKING=0`, what the runtime does when it is unset), else `NAME=*`'s, for
        setting it to anything (`CUDA_HOME=*`: a location nothing reads on a CPU host, where
        reading it is another matter), else `name`'s."""
        return (
            (value is not None and self.lookup(detector, f"{name}={value}"))
            or self.lookup(detector, f"{name}=*")
            or self.lookup(detector, name)
        )

    def canonical(self, name: str) -> str:
        """`torch.cuda.memory.empty_cache` is `torch.cuda.empty_cache`: the public re-export. Asked of
        every call and imported name the Python walk meets, the same few names many times: each
        answer is kept."""
        known = self._canonical.get(name)
        if known is not None:
            return known
        found = name
        prefix = name
        while prefix and self._aliases:
            target = self._aliases.get(prefix)
            if target is not None:
                found = target + name[len(prefix) :]
                break
            prefix = prefix.rpartition(".")[0]
        if len(self._canonical) < _CANONICAL_LIMIT:
            self._canonical[name] = found
        return found

    def tables(self, name: str) -> list[tuple[str, Any]]:
        """The raw data of the top-level TOML key `name` (`image`, `api`) in each catalog file that has it,
        with the file's name, in file-name order: the formats analyzers read themselves."""
        return self._tables.get(name, [])

    def entries(self) -> Iterator[Entry]:
        """Every key of every detector, with its facts."""
        for table in self._entries.values():
            yield from table.values()

    @cached_property
    def release_bound_libraries(self) -> frozenset[str]:
        """The libraries some target fact works with only from a release on (`works_with`), by normalised name:
        the ones whose declared ranges the project index reads."""
        facts = [fact for rule in self.rules.values() for fact in rule.targets.values()]
        facts += [fact for entry in self.entries() for fact in entry.targets.values()]
        return frozenset(working[0] for fact in facts if fact.works_with and (working := first_working(fact.works_with)))

    def keys(self, detector: str) -> frozenset[str]:
        return frozenset(self._entries.get(detector, ()))

    def triggers(self, kind: str) -> tuple[bytes, ...]:
        """Byte strings of which a file of `kind` must contain one for any rule to fire."""
        return self._triggers.get(kind, ())

    def may_match(self, kind: str, data: bytes) -> bool:
        """The prefilter: False proves that no rule of `kind` can fire on `data`."""
        if kind not in self._prefilter:
            self._prefilter[kind] = word_automaton(self._triggers.get(kind, ()))
        words = self._prefilter[kind]
        if words is not None and words.any_in(data):
            return True
        if kind not in self._trigger_patterns:
            source = self._trigger_sources.get(kind)
            self._trigger_patterns[kind] = re.compile(source.encode()) if source is not None else None
        pattern = self._trigger_patterns[kind]
        return pattern is not None and pattern.search(data) is not None

    def select(self, selectors: Iterable[str]) -> set[str]:
        """The rule ids that any of `selectors` (ids or id prefixes) names."""
        return {rule_id for rule_id in self.rules for s in selectors if rule_id.startswith(s)}


def build_finding(
    entry: Entry,
    path: str,
    span: Span,
    text: str,
    targets: Iterable[str],
    quiet: frozenset[str] = frozenset(),
    cap: Severity | None = None,
    fix: Fix | None = None,
) -> Finding:
    """A finding for `entry` at `span`, reporting only the requested targets.

    Each target's fact carries the severity at this site, and the finding's is the highest over
    the requested targets. Targets in `quiet` count at most as notes: a site under
    `if torch.cuda.is_available():` never runs on CPU, XPU or MPS, while ROCm passes the guard and
    keeps its own severity. `cap` bounds every target (an import with a fallback is at most a warning).
    """
    facts = {}
    for name in targets:
        fact = entry.targets.get(name)
        if fact is None:
            continue
        lowered = fact.severity.at_most(Severity.NOTE) if name in quiet else fact.severity
        if cap is not None:
            lowered = lowered.at_most(cap)
        facts[name] = fact if lowered is fact.severity else replace(fact, severity=lowered)
    severity = finding_severity(facts, entry.rule.severity, cap)
    message = entry.message.replace("{match}", entry.match).replace("{text}", text)
    return Finding(entry.rule.id, path, span, message, severity, facts, fix, entry.topic)


def finding_severity(facts: dict[str, Portability], default: Severity, cap: Severity | None = None) -> Severity:
    """The highest severity over a site's targets; `default` when it has no target facts (cudaudit's own rules)."""
    severity = max((fact.severity for fact in facts.values()), key=lambda s: s.rank, default=default)
    return severity.at_most(cap)


CatalogCache = Callable[[str, Callable[[], "Catalog"]], "Catalog"]
"""Given the digest of the catalog's TOML and how to parse it, the catalog: a scan's cache gives back
the one an earlier run of the same code parsed (`Cache.catalog`)."""
_loaded: list[Catalog] = []


_DFA_WORDS = 1000
"""Up to this many words an automaton is a DFA: built in milliseconds, a few hundred kilobytes."""


class WordSearch:
    """An Aho-Corasick automaton of byte strings (`ahocorasick_rs`, the Rust automaton's binding): it
    reads a file once whatever the number of words, where a search per word read a file without any
    of them once per word (on the C/C++ and Python files of a tree, most of the prefilter's time). It
    searches the bytes themselves, so a word is found exactly where its bytes are."""

    __slots__ = ("_automaton", "words")

    def __init__(self, words: Sequence[bytes]) -> None:
        self.words = tuple(words)
        """The words, in the order given: a match's first member is its word's index here."""
        # A DFA reads each byte with one transition; the binding picks one by itself only up to 100
        # words, and the Python kind has more (four times faster on Python files than its NFA).
        dfa = len(self.words) <= _DFA_WORDS
        self._automaton = ahocorasick_rs.BytesAhoCorasick(
            self.words, implementation=ahocorasick_rs.Implementation.DFA if dfa else None
        )

    def any_in(self, data: bytes) -> bool:
        """Whether `data` holds one of the words."""
        return bool(self._automaton.find_matches_as_indexes(data))

    def found(self, data: bytes) -> set[bytes]:
        """The words `data` holds, overlapping ones too (`cuda` inside `cudart` where both are words)."""
        words = self.words
        return {words[index] for index, _, _ in self._automaton.find_matches_as_indexes(data, overlapping=True)}

    def matches(self, data: bytes) -> list[tuple[int, int, int]]:
        """(word index, start, end) of every place `data` holds a word, overlapping ones too."""
        return self._automaton.find_matches_as_indexes(data, overlapping=True)

    def whole_words(self, data: bytes) -> set[bytes]:
        """The words `data` spells as words of their own: no word byte (`WORD_BYTES`) on either side."""
        words, size = self.words, len(data)
        return {
            words[index] for index, start, end in self.matches(data)
            if not (start and data[start - 1] in WORD_BYTES) and not (end < size and data[end] in WORD_BYTES)
        }


WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
"""The bytes of a word (an identifier's letters, digits and underscores): a name found in a file's
bytes is a word of its own where none stands on either side of it."""


def has_word(data: bytes, word: bytes) -> bool:
    """Whether `data` spells `word` with no word byte on either side (a dot may stand before it:
    `pkg.X.util` names `X.util`)."""
    at = data.find(word)
    while at >= 0:
        end = at + len(word)
        if not (at and data[at - 1] in WORD_BYTES) and (end >= len(data) or data[end] not in WORD_BYTES):
            return True
        at = data.find(word, at + 1)
    return False


def word_automaton(words: Iterable[bytes]) -> WordSearch | None:
    """A `WordSearch` of the non-empty `words` (an empty word says nothing), None without any."""
    kept = list(dict.fromkeys(word for word in words if word))
    return WordSearch(kept) if kept else None


def load_catalog(cached: CatalogCache | None = None) -> Catalog:
    """The catalog shipped in `cudaudit/rules/data/`, parsed once per process. `cached` stands in
    for that parse: a scan passes its cache's, which keeps the parsed catalog (a tenth of the
    pre-commit case's time went to parsing it again)."""
    if not _loaded:
        texts = _catalog_texts(DATA_FOLDER)
        digest = _texts_digest(texts)
        parse = partial(_parse_catalog, texts, digest)
        _loaded.append(cached(digest, parse) if cached is not None else parse())
    return _loaded[0]


_LOADED_HERE = frozenset({"rule", "entry", "alias", "effort"})
"""Top-level keys this loader parses; any other (`[[image]]`, `[api]`) is kept for `Catalog.tables`."""


def read_catalog(folder: Path) -> Catalog:
    """The catalog in the `*.toml` files of `folder`; raises CatalogError naming the file and table at fault."""
    texts = _catalog_texts(folder)
    return _parse_catalog(texts, _texts_digest(texts))


def _catalog_texts(folder: Path) -> list[tuple[str, str]]:
    """(name, text) of each `*.toml` file of `folder`, by name."""
    return [(item.name, item.read_text(encoding="utf-8"))
            for item in sorted(folder.iterdir(), key=lambda p: p.name) if item.name.endswith(".toml")]


def _texts_digest(texts: list[tuple[str, str]]) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for name, text in texts:
        digest.update(f"{name}\0{len(text)}\0".encode())
        digest.update(text.encode("utf-8"))
    return digest.hexdigest()


def _parse_catalog(texts: list[tuple[str, str]], digest: str) -> Catalog:
    from cudaudit.tomlcompat import tomllib  # not needed where a cache has the catalog parsed

    rules: list[Rule] = []
    raw_entries: list[tuple[str, dict[str, Any]]] = []
    aliases: dict[str, str] = {}
    efforts: dict[str, Any] = {}
    tables: dict[str, list[tuple[str, Any]]] = {}
    for name, text in texts:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{name}: {exc}") from exc
        rules.extend(_parse_rule(name, raw) for raw in data.get("rule", ()))
        raw_entries.extend((name, raw) for raw in data.get("entry", ()))
        aliases.update(data.get("alias", {}))
        efforts.update(data.get("effort", {}))
        for key, value in data.items():
            if key not in _LOADED_HERE:
                tables.setdefault(key, []).append((name, value))
    unknown = set(efforts) - {rule.id for rule in rules}
    if unknown:
        raise CatalogError(f"effort.toml: effort for unknown rule(s) {', '.join(sorted(unknown))}")
    rules = [replace(r, effort=_parse_effort(f"effort.toml: {r.id}", efforts[r.id])) if r.id in efforts else r for r in rules]
    by_id = {rule.id: rule for rule in rules}
    entries = [_parse_entry(source, raw, by_id) for source, raw in raw_entries]
    detailed = {(entry.rule.id, entry.match) for entry in entries}
    for rule in rules:
        keys = ("",) if rule.detector in KEYLESS_DETECTORS else rule.matches
        # An [[entry]] for one of the rule's own keys refines it rather than competing with it.
        entries.extend(
            Entry(rule, key, rule.message, rule.targets, fix=rule.fix, builds=rule.builds, topic=rule.topic)
            for key in keys
            if (rule.id, key) not in detailed
        )
        if not keys and not any(entry.rule is rule for entry in entries):
            raise CatalogError(f"rule {rule.id}: detector {rule.detector!r} needs `matches` or [[entry]] keys")
    return Catalog(rules, entries, aliases, tables, digest)


def _parse_rule(source: str, raw: dict[str, Any]) -> Rule:
    where = f"{source}: rule {raw.get('id', '?')}"
    try:
        detector = raw["detector"]
        if detector not in DETECTORS:
            raise CatalogError(
                f"{where}: unknown detector {detector!r}; each detector is implemented by the modules "
                "listed for it in rules/registry.py (add it there, or correct the spelling)"
            )
        kind = raw.get("kind", "python")
        also_kinds = tuple(raw.get("also_kinds", ()))
        for name in (kind, *also_kinds):
            if name != "any" and name not in {k.value for k in FileKind}:
                raise CatalogError(f"{where}: unknown file kind {name!r}")
        examples = raw.get("examples", {})
        rule = Rule(
            id=raw["id"],
            name=raw["name"],
            summary=raw["summary"],
            message=raw["message"],
            why=raw["why"].strip(),
            detector=detector,
            kind=kind,
            severity=Severity(raw.get("severity", "note")),
            triggers=tuple(raw.get("triggers", ())),
            trigger_pattern=raw.get("trigger_pattern"),
            matches=tuple(raw.get("matches", ())),
            targets=_parse_targets(where, raw.get("targets", {})),
            flagged=tuple(_parse_example(e) for e in examples.get("flagged", ())),
            clean=tuple(_parse_example(e) for e in examples.get("clean", ())),
            example_path=examples.get("path"),
            also_kinds=also_kinds,
            fix=_parse_fix(where, raw.get("fix"), kind),
            fixed=tuple(_parse_fixed(where, pair) for pair in examples.get("fixed", ())),
            builds=_parse_builds(where, raw.get("builds", {})),
            topic=_parse_topic(where, raw.get("topic")),
            defined_in=source,
            group=raw.get("group"),
            whole_file=bool(raw.get("whole_file", False)),
        )
        if rule.group not in (None, "file", "project"):
            raise CatalogError(f"{where}: group must be \"file\" or \"project\", not {rule.group!r}")
        if rule.whole_file and rule.group != "file":
            raise CatalogError(f"{where}: whole_file needs group = \"file\"")
    except KeyError as exc:
        raise CatalogError(f"{where}: missing field {exc}") from exc
    return rule


def _parse_entry(source: str, raw: dict[str, Any], rules: dict[str, Rule]) -> Entry:
    where = f"{source}: entry {raw.get('match', '?')!r}"
    rule = rules.get(raw.get("rule", ""))
    if rule is None:
        raise CatalogError(f"{where}: unknown rule {raw.get('rule')!r}")
    if "match" not in raw:
        raise CatalogError(f"{where}: missing field 'match'")
    targets = dict(rule.targets)
    targets.update(_parse_targets(where, raw.get("targets", {})))
    return Entry(
        rule,
        raw["match"],
        raw.get("message", rule.message),
        targets,
        tuple(raw.get("redundant_with", ())),
        _parse_fix(where, raw["fix"], rule.kind) if "fix" in raw else rule.fix,
        {**rule.builds, **_parse_builds(where, raw.get("builds", {}))},
        _parse_topic(where, raw["topic"]) if "topic" in raw else rule.topic,
        source,
    )


def _parse_topic(where: str, raw: str | None) -> str | None:
    if raw is not None and raw not in TOPICS:
        raise CatalogError(f"{where}: unknown topic {raw!r}: expected one of {', '.join(TOPICS)}")
    return raw


def _parse_effort(where: str, raw: dict[str, str]) -> Effort:
    try:
        effort = Effort(raw["change"], raw.get("blocked", "high"), raw["why"], raw.get("like"), raw.get("source"))
    except (KeyError, TypeError) as exc:
        raise CatalogError(f"{where}: missing field {exc}") from exc
    for level in (effort.change, effort.blocked):
        if level not in EFFORT_LEVELS:
            raise CatalogError(f"{where}: unknown effort {level!r}: expected one of {', '.join(EFFORT_LEVELS)}")
    if effort.like and not effort.source:
        raise CatalogError(f"{where}: `like` needs the `source` where that diagnostic is graded")
    return effort


def _parse_targets(where: str, raw: dict[str, Any]) -> dict[str, Portability]:
    targets = {}
    for name, fact in raw.items():
        if name not in TARGETS:
            raise CatalogError(f"{where}: unknown target {name!r}")
        try:
            status = Status(fact["status"])
            default = Severity.NOTE if status is Status.WORKS else Severity.ERROR
            targets[name] = Portability(
                status=status,
                replacement=fact.get("replacement", ""),
                source=fact["source"],
                severity=Severity(fact.get("severity", default)),
                severity_when_built=Severity(fact["severity_when_built"]) if "severity_when_built" in fact else None,
                works_with=_works_with(fact.get("works_with")),
            )
        except (KeyError, ValueError) as exc:
            raise CatalogError(f"{where}: target {name}: {exc}") from exc
    return {name: targets[name] for name in TARGETS if name in targets}


def _works_with(raw: object) -> str | None:
    """`works_with = "bitsandbytes>=0.49.0"`: one library and the first release that works."""
    if raw is None:
        return None
    if not isinstance(raw, str) or first_working(raw) is None:
        raise ValueError(f"works_with: expected `name>=version`, got {raw!r}")
    return raw


def _parse_fix(where: str, raw: dict[str, str] | bool | None, file_kind: str) -> FixPolicy | None:
    """`fix = { kind = "guard", safety = "safe" }`; `fix = false` on an entry turns the rule's off.

    Other keys name targets: `fix = { kind = "image", cpu = "ubuntu:{ubuntu}" }`. The kind must be
    registered, and rewrite Python code exactly when the rule's files are Python (every other kind
    rewrites a file for one named target)."""
    if not raw:
        return None
    if raw is True:
        raise CatalogError(f"{where}: fix: expected a table such as {{ kind = \"guard\" }} or false")
    try:
        to = {name: value for name, value in raw.items() if name not in ("kind", "safety")}
        unknown = set(to) - set(TARGETS)
        if unknown:
            raise ValueError(f"unknown key(s) {sorted(unknown)}: expected kind, safety or a target")
        policy = FixPolicy(raw["kind"], Safety(raw.get("safety", "unsafe")), to)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CatalogError(f"{where}: fix: {exc}") from exc
    if policy.kind not in FIX_BUILDERS:
        raise CatalogError(
            f"{where}: fix: unknown kind {policy.kind!r}; each fix kind is built by the function listed for it "
            "in rules/registry.py (add it there, or correct the spelling)"
        )
    if made_for_one_target(policy.kind) == (file_kind == "python"):
        raise CatalogError(f"{where}: fix: kind {policy.kind!r} does not rewrite {file_kind} files")
    return policy


def _parse_builds(where: str, raw: dict[str, Any]) -> dict[str, tuple[TargetBuild, ...]]:
    """`[[entry.builds.rocm]]` rows: which build serves each target, per range of the package's releases."""
    builds = {}
    for target, rows in raw.items():
        if target not in TARGETS:
            raise CatalogError(f"{where}: builds: unknown target {target!r}")
        builds[target] = tuple(_parse_build(f"{where}: builds.{target}", row) for row in rows)
    return builds


def _parse_build(where: str, raw: dict[str, Any]) -> TargetBuild:
    try:
        build = TargetBuild(
            available=raw["available"],
            action=raw["action"],
            source=raw["source"],
            versions=SpecifierSet(raw["versions"]) if "versions" in raw else None,
            package=raw.get("package"),
            version=raw.get("version"),
            pytorch_index=dict(raw.get("pytorch_index", {})),
            min_rocm=raw.get("min_rocm"),
            note=raw.get("note", ""),
            replacement=raw.get("replacement"),
        )
        if build.version:
            SpecifierSet(build.version)
    except KeyError as exc:
        raise CatalogError(f"{where}: missing field {exc}") from exc
    except InvalidSpecifier as exc:
        raise CatalogError(f"{where}: {exc}") from exc
    if build.available not in AVAILABILITY or build.action not in BUILD_ACTIONS:
        raise CatalogError(f"{where}: available must be one of {AVAILABILITY}, action one of {BUILD_ACTIONS}")
    if (build.action == "swap") != (build.package is not None):
        raise CatalogError(f"{where}: a `swap` names the `package` it installs, and only a swap does")
    return build


def specifiers_overlap(first: SpecifierSet, second: SpecifierSet) -> bool:
    """Whether some release satisfies both sets (an empty set admits every release).

    `SpecifierSet` has no set algebra, so this probes the boundaries both name, a step on either
    side of them, and the ends of the range.
    """
    probes = version_probes(first, second)
    return any(first.contains(p, prereleases=True) and second.contains(p, prereleases=True) for p in probes)


def version_probes(*sets: SpecifierSet) -> set[Version]:
    """Versions that tell specifier sets apart: each bound they name, one step past it, and the extremes."""
    probes = {Version("0"), Version("9999")}
    for spec in (s for specifiers in sets for s in specifiers):
        try:
            base = Version(spec.version.removesuffix(".*"))
        except InvalidVersion:
            continue
        major, minor, micro = (*base.release, 0, 0)[:3]
        probes |= {
            base,
            Version(base.public),
            Version(f"{major}.{minor}.{micro + 1}"),
            Version(f"{major}.{minor + 1}"),
            Version(f"{major + 1}"),
        }
        if micro:
            probes.add(Version(f"{major}.{minor}.{micro - 1}"))
    return probes


def _parse_fixed(where: str, raw: dict[str, str]) -> FixExample:
    target = raw.get("target")
    if target is not None and target not in TARGETS:
        raise CatalogError(f"{where}: fixed example: unknown target {target!r}")
    try:
        return FixExample(raw["before"], raw["after"], target)
    except KeyError as exc:
        raise CatalogError(f"{where}: fixed example: missing field {exc}") from exc


def _parse_example(raw: str | dict[str, Any]) -> Example:
    if isinstance(raw, str):
        return Example(raw)
    severity = Severity(raw["severity"]) if "severity" in raw else None
    return Example(raw["code"], severity, dict(raw.get("files", {})), raw.get("path"))
