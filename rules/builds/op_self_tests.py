"""Scripts that test or benchmark a compiled op, kept beside the build script that compiles it.

A project that carries a custom op as its own small build (`ops/setup.py` with a `CUDAExtension`,
built by hand with `python setup.py build install` or a `make.sh` beside it) often keeps the op's
self-check in the same folder: `ops/test.py` or `ops/benchmark.py`, whose `__main__` block
compares the compiled op with a pure PyTorch twin on `.cuda()` tensors or times it. The op's
developer runs it after a build; no user of the project runs it, and nothing imports it. Its
sites are the developer's path, not the normal one: at most a warning, as a test module's are
(`verdicts.coverage_only`), even though its name (`test.py`) is not a test module's
(`filekinds.is_test_path`), since `tools/test.py` is many projects' evaluation command.

`op_self_tests` marks such a script where three things hold: its name says it tests or
benchmarks, a `setup.py` in its own folder builds a C++/CUDA extension (so the folder is the
op's build, not the project's tools), and no module of the scan imports it. A `test.py` of a
folder without an extension build, or one another module imports, keeps its verdicts, as does
one the project's install steps tell users to run (`cd ops`, `sh make.sh`, `python test.py`: the
index leaves out a script a documented command runs by its path, `documented_commands`).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.facts import Evidence
from cudaudit.rules.python.read_once import ReadOnce

_EXTENSION = re.compile(rb"^(?![ \t]*(?:from[ \t]|import[ \t]|#)).*?\b(?:CUDAExtension|CppExtension)\b", re.MULTILINE)
"""A line that uses one of `torch.utils.cpp_extension`'s extension classes, other than the import
of it or a comment (`ext_modules=[CUDAExtension(...)]`, `extension = CUDAExtension`)."""

_SELF_CHECK = re.compile(r"(?:tests?|bench(?:mark)?s?)(?:_\w+)?|\w+_(?:tests?|bench(?:mark)?s?)")
"""The stem of a script named for checking or timing what lies beside it: `test`, `tests`,
`test_forward`, `benchmark`, `bench_speed`, `dcn_test`, `op_benchmark`."""

_TEXT_LIMIT = 80


def op_self_tests(
    unimported: Iterable[str], builds: Mapping[str, Callable[[], bytes]]
) -> dict[str, Evidence]:
    """Display path -> the extension the `setup.py` beside it builds, for each script of
    `unimported` (modules with a `__main__` block that no module of the scan imports) named for
    testing or benchmarking whose folder's `setup.py` (`builds`, by display path) builds one."""
    scripts = {
        path for path in unimported
        if _SELF_CHECK.fullmatch(posixpath.splitext(posixpath.basename(path))[0].lower())
    }
    if not scripts:
        return {}
    beside = {posixpath.dirname(path): path for path in builds}
    text = ReadOnce(builds)
    found: dict[str, Evidence] = {}
    for path in sorted(scripts):
        build = beside.get(posixpath.dirname(path))
        if build is None or build == path:
            continue
        data = text(build)
        match = _EXTENSION.search(data)
        if match is None:
            continue
        quoted = " ".join(match.group(0).decode("utf-8", "replace").split())
        found[path] = Evidence(build, data.count(b"\n", 0, match.start()) + 1, quoted[:_TEXT_LIMIT])
    return found
