"""The repository a project's build declaration names as its home.

A Dockerfile often fetches the project it belongs to with `git clone https://github.com/ORG/NAME.git
/NAME` instead of copying the build context; the folder then holds the project's own files, which the
project index knows about (`rules/builds/compiled.py`). The declaration says where the project lives:
`setup(url=...)` or `project_urls` of `setup.py`, `[project.urls]` of `pyproject.toml`. Only those
are read (a dependency's `git+https://` URL in `install_requires` is someone else's project), with
`ast` and `tomllib`, never run.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping

from cudaudit.rules.builds.compiled import setup_calls
from cudaudit.tomlcompat import tomllib

_ADDRESS = re.compile(r"^(?:[a-z+]+://)?(?:[^@/]+@)?([^/:]+)[/:]([^/]+)/([^/#?]+)")
"""Host, owner and name of a repository URL (`https://user:token@host/owner/name.git`, `git@host:owner/name`)."""


def repository_address(url: str) -> str | None:
    """`host/owner/name` of a repository URL, lowercase and without `.git`: the same for a clone URL and
    a homepage; None for anything that names no owner and repository."""
    found = _ADDRESS.match(url.strip().lower())
    if found is None or "$" in found.group(1):
        return None
    name = found.group(3).removesuffix(".git")
    return f"{found.group(1)}/{found.group(2)}/{name}" if name else None


def home_repositories(declarations: Mapping[str, Callable[[], bytes]]) -> tuple[str, ...]:
    """The repository addresses the top-most `setup.py` and `pyproject.toml` name as the project's home."""
    paths = [path for path in declarations if posixpath.basename(path) in ("setup.py", "pyproject.toml")]
    if not paths:
        return ()
    top = min(path.count("/") for path in paths)
    urls: list[str] = []
    for path in sorted(path for path in paths if path.count("/") == top):
        try:
            data = declarations[path]()
        except Exception:  # noqa: BLE001 - unread, it names no home
            continue
        urls += _setup_urls(data) if path.endswith("setup.py") else _pyproject_urls(data)
    return tuple(sorted({address for url in urls if (address := repository_address(url)) is not None}))


def _setup_urls(data: bytes) -> list[str]:
    """The string constants of `url=` and the values of `project_urls=` of every `setup()` call."""
    try:
        tree = ast.parse(data)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    values: list[ast.expr] = []
    for call in setup_calls(tree):
        for keyword in call.keywords:
            if keyword.arg == "url":
                values.append(keyword.value)
            elif keyword.arg == "project_urls" and isinstance(keyword.value, ast.Dict):
                values.extend(keyword.value.values)
    return list(_strings(values))


def _pyproject_urls(data: bytes) -> list[str]:
    try:
        table = tomllib.loads(data.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):  # TOMLDecodeError is a ValueError
        return []
    project = table.get("project")
    urls = project.get("urls") if isinstance(project, dict) else None
    return [value for value in urls.values() if isinstance(value, str)] if isinstance(urls, dict) else []


def _strings(values: Iterable[ast.expr]) -> Iterable[str]:
    return (value.value for value in values if isinstance(value, ast.Constant) and isinstance(value.value, str))
