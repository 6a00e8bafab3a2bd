"""What in one requirement string or pip option ties a project to CUDA, with its position.

Every dependency format (requirements files, `pyproject.toml`, `setup.py`/`setup.cfg`, lock
files, the `pip:` list of a conda environment, `pip install` in a Dockerfile) ends up naming
packages, versions and indexes the way pip does; this module reads those strings once, with
`packaging`, so every analyzer flags the same things the same way.

API (stable; the Dockerfile analyzer calls it with one `pip install` argument):

* `requirement_hits(text) -> list[PackageHit]`: one PEP 508 requirement
  (`torch==2.3.0+cu121`, `jax[cuda12]>=0.4; sys_platform == "linux"`, `name @ URL`), a bare
  wheel URL or file name, or one pip option with its value (`--extra-index-url URL`,
  `--index-url=URL`, `-f URL`). Text that is none of these, or is malformed, gives `[]`:
  nothing here raises on bad input.
* `pip_lines(text)`, `requirement_strings(text)`: pip's line format of a requirements file
  (continuations joined, comments dropped), which every reader of such files shares.
* `index_hits(url) -> list[PackageHit]`: an index or find-links URL (`${VAR}` references are
  kept as written: `.../whl/cu${CUDA}` still names a CUDA index, `.../whl/${VARIANT}` does not).
* `PackageHit(detector, key, start, end, text)`: look it up with
  `catalog.lookup(hit.detector, hit.key)`; `text[start:end]` (== `hit.text`) is what to flag,
  offsets relative to the string passed in; `shift(hits, offset)` moves them to the place of
  that string in a longer text.

Detectors and their catalog keys (exact names, or `fnmatch` patterns that the catalog lists):

* `pip-package`: the normalised distribution name, `name[extra]` for a CUDA extra
  (`jax[cuda*]`, `tensorflow[and-cuda]`), or `name<version` for a package that is CUDA-only
  only in old releases (`bitsandbytes<0.49`: a requirement is flagged when every release it
  admits is below 0.49). The most specific key wins: an exact name over a pattern, then the
  longer key.
* `local-version`: the local label of a pinned version (`cu121` in `==2.3.0+cu121`, or in a
  wheel file name), or `package+label` for a label whose meaning is that package's
  (`jaxlib+cuda[0-9]*`), tried first; the `+label` is flagged.
* `package-index`: `host/path` of an index URL without scheme or credentials
  (`download.pytorch.org/whl/cu*`, `pypi.nvidia.com*`); the whole URL is flagged.

For formats that write a package's name and version apart (Poetry and Pipfile tables, lock
files): `name_hits(name, extras, specifier)` (offsets in `name`), `version_hits(version, package=name)`
(offsets in a version or `==version` string) and `version_constraint(text)`, which reads
PEP 440 specifiers, bare versions and Poetry's `^`/`~` constraints.

`pinned_torch(requirements)` gives the torch release that a set of requirement strings pins
(through torch, torchvision or torchaudio), which the replacement of a CUDA index depends on.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

from cudaudit.resolvers.wheel_indexes import torch_version_of
from cudaudit.rules.catalog import Catalog, load_catalog, version_probes

PACKAGE = "pip-package"
LOCAL_VERSION = "local-version"
INDEX = "package-index"
CONDA_PACKAGE = "conda-package"
CONDA_BUILD = "conda-build"
CONDA_CHANNEL = "conda-channel"
"""The detectors of conda specs (read by `rules/dependencies/conda.py`): a package's name, a build string, a channel."""

INDEX_OPTIONS = {
    "-i": "--index-url",
    "--index-url": "--index-url",
    "--extra-index-url": "--extra-index-url",
    "-f": "--find-links",
    "--find-links": "--find-links",
}
INCLUDE_OPTIONS = {
    "-r": "--requirement",
    "--requirement": "--requirement",
    "-c": "--constraint",
    "--constraint": "--constraint",
}
"""pip's short and long spellings, mapped to the long one."""

_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(\[[^\]]*\])?")
_SPECIFIER = re.compile(
    r"\s*(\(\s*)?((?:===|==|!=|<=|>=|~=|<|>)\s*[^\s,;()#'\"]+(?:\s*,\s*(?:===|==|!=|<=|>=|~=|<|>)\s*[^\s,;()#'\"]+)*)(\s*\))?"
)
"""A version specifier as written: `==2.3.1`, `>=1.0, <2`, `(>=1.0)`; group 2 is the specifier itself."""
_WORD = re.compile(r"\S+")
_TRAILING_OPTION = re.compile(r"(?<!\s)\s+--?[A-Za-z]")
"""Where pip's per-requirement options (`--hash=...`) begin after a requirement on its line."""
_COMMENT = re.compile(r"(?:^|(?<!\s)\s+)#.*$")
r"""A comment as pip strips it from a requirements line. `(?<!\s)`: a match starts only where a run
of blanks starts, so a long run is tried once, not once per blank (a line of spaces was quadratic)."""
_OPTION = re.compile(r"\s*(--[A-Za-z][A-Za-z0-9-]*|-[A-Za-z])(?:\s*=\s*|\s*)(\S*)")
"""A long option (`--index-url=URL`, `--index-url URL`) or a short one, maybe glued (`-iURL`)."""
_PATTERN_CHARS = frozenset("*?[")
_TORCH_FAMILY = ("torch", "torchvision", "torchaudio")


@dataclass(frozen=True)
class PackageHit:
    """One thing to flag: the catalog key to look up and where it is in the string given."""

    detector: str
    key: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class PipOption:
    """A pip option as written in a requirements file or on a command line."""

    name: str
    """The long spelling (`--index-url` for `-i`)."""
    value: str
    start: int
    """Offset of `value` in the text the option was read from."""


Segments = tuple[tuple[int, int, int], ...]
"""Where a logical line's characters are: (offset in the line, line number, 1-based column) per physical line."""


def pip_lines(text: str) -> Iterator[tuple[str, Segments]]:
    """pip's logical lines of a requirements file: a line ending in a backslash joined with the
    next, `#` comments (at a line's start or after whitespace) removed, each with its segments."""
    joined, segments = "", []
    lines = text.split("\n")
    for number, raw in enumerate(lines, start=1):
        continued = raw.endswith("\\") and number < len(lines)
        segments.append((len(joined), number, 1))
        joined += raw[:-1] if continued else raw
        if not continued:
            yield _COMMENT.sub("", joined), tuple(segments)
            joined, segments = "", []


def is_pip_option(line: str) -> bool:
    """Whether a logical line is an option (`--index-url URL`, `-r base.txt`) rather than a requirement."""
    return line.lstrip().startswith("-")


def requirement_part(line: str) -> str:
    """The requirement of a logical line, without the options that follow it (`--hash=...`)."""
    options = _TRAILING_OPTION.search(line)
    return line[: options.start()] if options else line


def requirement_strings(text: str) -> list[str]:
    """The requirement of every logical line of a requirements file (continuations joined,
    comments, options and trailing `--hash` options removed)."""
    return [requirement_part(line) for line, _ in pip_lines(text) if line.strip() and not is_pip_option(line)]


def parse_option(text: str) -> PipOption | None:
    """`--index-url URL`, `--index-url=URL`, `-i URL` or `-iURL`; None when `text` is no option."""
    match = _OPTION.match(text)
    if match is None:
        return None
    flag = match.group(1)
    name = INDEX_OPTIONS.get(flag) or INCLUDE_OPTIONS.get(flag) or flag
    return PipOption(name, match.group(2), match.start(2))


def requirement_hits(text: str, catalog: Catalog | None = None) -> list[PackageHit]:
    """Lock-in in one requirement string or pip option (see the module docstring)."""
    catalog = catalog or load_catalog()
    stripped = text.strip()
    if not stripped:
        return []
    if stripped.startswith("-"):
        option = parse_option(text)
        if option is None or option.name not in INDEX_OPTIONS.values() or not option.value:
            return []
        return shift(index_hits(option.value, catalog), option.start)
    if _looks_like_location(stripped):
        start = text.index(stripped)
        return shift(_location_hits(stripped, catalog), start)
    requirement = parse_requirement(text)
    if requirement is None:
        return []
    return _requirement_hits(text, requirement, catalog)


def index_hits(url: str, catalog: Catalog | None = None) -> list[PackageHit]:
    """A CUDA package index or find-links page in `url`."""
    catalog = catalog or load_catalog()
    stripped = url.strip()
    key = best_key(catalog, INDEX, index_location(stripped))
    if key is None:
        return []
    start = url.index(stripped)
    return [PackageHit(INDEX, key, start, start + len(stripped), stripped)]


@dataclass(frozen=True)
class RequirementLayout:
    """Where the parts of one PEP 508 requirement are written (offsets in the text it was read from)."""

    requirement: Requirement
    name_start: int
    extras_end: int
    """The end of the name and its `[extras]`."""
    specifier_start: int
    specifier_end: int
    """The version specifier as written (`==2.3.1`, `>=1.0, <2`); empty (start == end) when there is none."""


def requirement_layout(text: str) -> RequirementLayout | None:
    """The parts of the requirement `text` starts with (leading blanks allowed, anything pip reads after it
    such as `; marker` or `--hash=...` ignored); None for an option, a URL requirement or invalid text."""
    name = _NAME.match(text)
    if name is None:
        return None
    specifier = _SPECIFIER.match(text, name.end())
    head_end = specifier.end() if specifier else name.end()
    rest = text[head_end:].lstrip()
    if rest.startswith(";"):
        marker = _TRAILING_OPTION.split(rest.split(" #", 1)[0], maxsplit=1)[0]
    elif rest and not rest.startswith(("#", "-")):
        return None  # `name @ URL`, or text pip reads differently
    else:
        marker = ""
    requirement = parse_requirement(text[:head_end] + marker)
    if requirement is None or requirement.url:
        return None
    extras_end = name.end(2) if name.group(2) else name.end(1)
    start, end = (specifier.start(2), specifier.end(2)) if specifier else (extras_end, extras_end)
    return RequirementLayout(requirement, name.start(1), extras_end, start, end)


def trailing_hashes(line: str) -> tuple[int, int] | None:
    """Where the `--hash` options that end a requirements line are (they name the files of one pin):
    from the blanks before the first of them to the end of the line.

    An option is one word `--hash=VALUE`, or the word `--hash`, one blank and a VALUE word. Which
    suffixes of the line's words are nothing but options is worked out once, from the last word
    back, so a line of many options followed by something else is read in linear time (a regular
    expression searching for the block was quadratic in the number of options).
    """
    words = [(m.start(), m.end()) for m in _WORD.finditer(line)]
    options_from = [False] * len(words) + [True]
    """options_from[i]: words i.. are a sequence of whole options."""
    for i in range(len(words) - 1, -1, -1):
        word = line[words[i][0] : words[i][1]]
        single = word.startswith("--hash=") and len(word) > len("--hash=") and options_from[i + 1]
        pair = word == "--hash" and i + 1 < len(words) and words[i + 1][0] == words[i][1] + 1 and options_from[i + 2]
        options_from[i] = single or pair
    first = next((i for i in range(len(words)) if options_from[i] and words[i][0] > 0), None)
    if first is None:
        return None
    return (words[first - 1][1] if first > 0 else 0, len(line))


def parse_requirement(text: str) -> Requirement | None:
    """A PEP 508 requirement, or None for anything pip would read otherwise (paths, options) or reject."""
    try:
        return Requirement(text.strip())
    except InvalidRequirement:
        return None


def index_location(url: str) -> str:
    """`host/path` of `url`: no scheme, credentials, port, query or trailing slash; host lower-cased,
    path unquoted (`torch-2.3.0%2Bcu121.html` is `torch-2.3.0+cu121.html`)."""
    try:
        parts = urlsplit(url if "://" in url else "//" + url)
        host = (parts.hostname or "").lower() if "$" not in parts.netloc else parts.netloc.rpartition("@")[2]
    except ValueError:  # an unbalanced `[` in the host: no index cudaudit knows
        return ""
    return (host + unquote(parts.path)).rstrip("/")


def package_key(
    name: str,
    extras: Iterable[str] = (),
    specifier: SpecifierSet | None = None,
    catalog: Catalog | None = None,
) -> tuple[str, bool] | None:
    """The catalog key for a package and whether it matched through an extra; None if not lock-in."""
    catalog = catalog or load_catalog()
    canonical = canonicalize_name(name)
    wanted = {canonicalize_name(extra) for extra in extras}
    best: tuple[tuple[int, int, int], str, bool] | None = None
    for pattern in _package_patterns(catalog):
        if not fnmatch.fnmatchcase(canonical, pattern.name):
            continue
        via_extra = pattern.extra is not None
        if pattern.extra is not None and not any(fnmatch.fnmatchcase(extra, pattern.extra) for extra in wanted):
            continue
        if pattern.below is not None and not _confined(specifier or SpecifierSet(), pattern.below):
            continue
        rank = (pattern.name == canonical, via_extra, len(pattern.key))
        if best is None or rank > best[0]:
            best = (rank, pattern.key, via_extra)
    return (best[1], best[2]) if best else None


def local_version_key(version: str, catalog: Catalog | None = None, package: str | None = None) -> str | None:
    """The catalog key for the local label of `version` (`2.3.0+cu121` → `cu[0-9]*`), if any.

    A label means what its package's builds mean by it: `+cuda12.4.torch2.4.0` is a CUDA build
    of k2, `+cuda11.cudnn82` one of jaxlib. So a key written `package+label` (`jaxlib+cuda[0-9]*`)
    is tried first for the package that pins it, then the label's own key, which speaks for any
    package.
    """
    try:
        local = Version(version).local
    except InvalidVersion:
        return None
    if not local:
        return None
    catalog = catalog or load_catalog()
    own = best_key(catalog, LOCAL_VERSION, f"{canonicalize_name(package)}+{local}") if package else None
    return own or best_key(catalog, LOCAL_VERSION, local)


def best_key(catalog: Catalog, detector: str, value: str) -> str | None:
    """The key of `detector` equal to `value`, else the longest pattern key matching it."""
    keys = catalog.keys(detector)
    if value in keys:
        return value
    matching = [key for key in keys if _PATTERN_CHARS & set(key) and fnmatch.fnmatchcase(value, key)]
    return max(matching, key=len, default=None)


def name_hits(
    name: str, extras: Iterable[str] = (), specifier: SpecifierSet | None = None, catalog: Catalog | None = None
) -> list[PackageHit]:
    """A package named apart from its version: the hit covers `name` (offsets in `name`)."""
    found = package_key(name, extras, specifier, catalog)
    return [PackageHit(PACKAGE, found[0], 0, len(name), name)] if found else []


def version_hits(version: str, catalog: Catalog | None = None, package: str | None = None) -> list[PackageHit]:
    """The CUDA local label in `package`'s version (`2.3.1+cu121`, `==2.3.1+cu121`), offsets in `version`."""
    match = re.search(r"\d[^\s,;]*", version)
    if match is None or "+" not in match.group(0):
        return []
    key = local_version_key(match.group(0), catalog, package)
    if key is None:
        return []
    start = match.start() + match.group(0).index("+")
    return [PackageHit(LOCAL_VERSION, key, start, match.end(), version[start : match.end()])]


def version_constraint(text: str) -> SpecifierSet | None:
    """A version constraint as a `SpecifierSet`: PEP 440, a bare version, or Poetry's `^1.2`/`~1.2`.

    None for "any version" (`*`, empty) and for what cannot be read.
    """
    text = text.strip()
    if text in ("", "*"):
        return None
    parts = []
    for part in re.split(r"(?<!\s)\s*,\s*|(?<!\s)\s+(?=[<>=!~^])", text):
        if part[:1] in "^~" and part[:2] != "~=":
            bound = _poetry_bound(part)
            if bound is None:
                return None
            parts.extend(bound)
        elif part[:1].isdigit():
            parts.append(f"=={part}")
        else:
            parts.append(part)
    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier:
        return None


def _poetry_bound(part: str) -> list[str] | None:
    """`^1.2.3` → >=1.2.3,<2.0.0; `^0.43` → >=0.43,<0.44; `~1.2` → >=1.2,<1.3 (Poetry's rules)."""
    try:
        base = Version(part[1:].strip())
    except InvalidVersion:
        return None
    release = list(base.release)
    if part[0] == "^":
        index = next((i for i, n in enumerate(release) if n), len(release) - 1)
    else:
        index = min(1, len(release) - 1) if len(release) > 1 else 0
    upper = release[: index + 1]
    upper[-1] += 1
    return [f">={base}", f"<{'.'.join(map(str, upper))}"]


def pinned_torch(requirements: Iterable[str]) -> Version | None:
    """The torch release pinned (`==`) by torch, torchvision or torchaudio among `requirements`."""
    for text in requirements:
        requirement = parse_requirement(text)
        if requirement is None or canonicalize_name(requirement.name) not in _TORCH_FAMILY:
            continue
        for spec in requirement.specifier:
            if spec.operator in ("==", "===") and "*" not in spec.version:
                found = torch_version_of(canonicalize_name(requirement.name), spec.version)
                if found is not None:
                    return found
    return None


def _requirement_hits(text: str, requirement: Requirement, catalog: Catalog) -> list[PackageHit]:
    hits: list[PackageHit] = []
    name = _NAME.match(text)
    assert name is not None, "packaging accepted a requirement without a name"
    found = package_key(requirement.name, requirement.extras, requirement.specifier, catalog)
    if found is not None:
        key, via_extra = found
        start, end = name.start(1), name.end(2) if via_extra and name.group(2) else name.end(1)
        hits.append(PackageHit(PACKAGE, key, start, end, text[start:end]))
    for spec in requirement.specifier:
        if spec.operator not in ("==", "===") or "+" not in spec.version:  # `!=2.3.1+cu121` avoids the build
            continue
        label_key = local_version_key(spec.version, catalog, requirement.name)
        at = text.find(spec.version, name.end())
        if label_key is not None and at >= 0:
            start = at + spec.version.index("+")
            end = at + len(spec.version)
            hits.append(PackageHit(LOCAL_VERSION, label_key, start, end, text[start:end]))
    if requirement.url and not _VCS_SCHEME.match(requirement.url):  # `name @ git+URL` is read by its name
        at = text.find(requirement.url, name.end())
        if at >= 0:
            hits.extend(shift(_location_hits(requirement.url, catalog), at))
    return hits


def _location_hits(location: str, catalog: Catalog) -> list[PackageHit]:
    """A wheel URL or file name: the index it comes from and the local label in its file name; a
    version-control URL: the package it installs (`_vcs_name_hits`)."""
    if _VCS_SCHEME.match(location):
        return _vcs_name_hits(location, catalog)
    hits = index_hits(location, catalog) if "://" in location else []
    filename = posixpath.basename(location.split("?", 1)[0].split("#", 1)[0])
    try:
        name, version, _, _ = parse_wheel_filename(unquote(filename))
    except InvalidWheelFilename:
        return hits
    found = package_key(name, (), SpecifierSet(f"=={version}"), catalog)
    offset = location.rfind(filename)
    if found is not None:
        raw_name = filename.split("-", 1)[0]
        hits.append(PackageHit(PACKAGE, found[0], offset, offset + len(raw_name), raw_name))
    key = local_version_key(str(version), catalog, str(name))
    if key is not None:
        tag = re.search(r"(?:\+|%2B)" + re.escape(version.local or ""), filename, re.IGNORECASE)
        if tag is not None:
            hits.append(PackageHit(LOCAL_VERSION, key, offset + tag.start(), offset + tag.end(), tag.group(0)))
    return hits


_VCS_SCHEME = re.compile(r"(?i)(?:git|hg|svn|bzr)\+[a-z]+://")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def _vcs_name_hits(location: str, catalog: Catalog) -> list[PackageHit]:
    """`git+https://github.com/org/name@v1.0#egg=name`: pip installs the project under its `#egg=` name
    where the URL gives one; without it, under the name its metadata declares, which the URL does not
    spell: the repository's name (`name`, less `.git` and `@ref`) is read in its place, as the projects
    the catalog knows name their repositories after their distributions. The hit covers that name."""
    egg = _EGG.search(location)
    if egg is not None:
        name, start = egg.group(1), egg.start(1)
    else:
        path = location.split("#", 1)[0].split("?", 1)[0].rstrip("/")
        tail = path.rsplit("/", 1)[-1]
        name = tail.split("@", 1)[0].removesuffix(".git")
        start = path.rfind(tail)
    found = package_key(name, (), None, catalog) if _NAME.fullmatch(name) else None
    return [PackageHit(PACKAGE, found[0], start, start + len(name), name)] if found else []


def _looks_like_location(text: str) -> bool:
    """A bare URL or archive that pip installs as is (`https://.../x.whl`, `wheels/x.whl`), not `name @ URL`."""
    return "://" in text.split("@", 1)[0] or (text.endswith((".whl", ".tar.gz", ".zip")) and " @ " not in text)


def shift(hits: Iterable[PackageHit], offset: int) -> list[PackageHit]:
    """The hits of a substring that starts at `offset`, as offsets in the whole string."""
    return [PackageHit(h.detector, h.key, h.start + offset, h.end + offset, h.text) for h in hits]


@dataclass(frozen=True)
class _Pattern:
    key: str
    name: str
    extra: str | None
    below: SpecifierSet | None
    """Releases that are lock-in; a requirement is flagged only if it admits no other release."""


_KEY = re.compile(r"^([^\[<>=!~]+)(?:\[([^\]]+)\])?(.*)$")


@cache
def _package_patterns(catalog: Catalog) -> tuple[_Pattern, ...]:
    patterns = []
    for key in sorted(catalog.keys(PACKAGE)):
        match = _KEY.match(key)
        if match is None:
            continue
        try:
            below = SpecifierSet(match.group(3)) if match.group(3) else None
        except InvalidSpecifier:
            continue
        patterns.append(_Pattern(key, match.group(1).strip(), match.group(2), below))
    return tuple(patterns)


def _confined(requirement: SpecifierSet, lock_in: SpecifierSet) -> bool:
    """Whether every release `requirement` admits lies in `lock_in` (an unpinned one admits all).

    A requirement that admits any probe (`version_probes`) outside `lock_in` can resolve to a
    release outside it.
    """
    if not len(requirement):
        return False
    if any(not _is_version(spec.version.removesuffix(".*")) for spec in (*requirement, *lock_in)):
        return False
    return not any(
        requirement.contains(probe, prereleases=True) and not lock_in.contains(probe, prereleases=True)
        for probe in version_probes(requirement, lock_in)
    )


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True
