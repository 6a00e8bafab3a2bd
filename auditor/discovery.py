"""Find the files to scan under the paths a user gives.

Inside a git checkout the file list comes from `git ls-files`, so `.gitignore`,
`.git/info/exclude` and the global excludes apply exactly as git applies them. Outside
one, the tree is walked. Either way, version-control folders, virtual environments,
`node_modules` and build outputs are skipped, and so are the configured excludes.
Symbolic links are never followed while walking, so a link loop cannot trap the scan;
a path given explicitly is always scanned. git runs through `safe_git`, so the scanned
tree's own git configuration never runs a program.

Each candidate carries its root: the folder named on the command line, or, for a file named
there, the folder holding it. Reading a file never leaves its root (`safe_read`).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cudaudit.filekinds import FileKind, classify, is_document, is_license, is_test_configuration
from cudaudit.model import FileError
from cudaudit.safe_git import GitUnavailable, run_git
from cudaudit.safe_read import UnreadableFile, is_within, read_tree_file

if TYPE_CHECKING:
    import pathspec

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        ".venv",
        "venv",
        ".tox",
        ".nox",
        ".eggs",
        "node_modules",
        "__pycache__",
        "__pypackages__",
        "site-packages",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".cudaudit_cache",
        ".ipynb_checkpoints",
        "build",
        "dist",
        "_build",
        "buck-out",
    }
)
"""Folder names never descended into unless named explicitly."""

VENV_MARKERS = ("pyvenv.cfg", "conda-meta")
_SNIFF_BYTES = 128


@dataclass(frozen=True)
class Candidate:
    path: Path
    kinds: tuple[FileKind, ...]
    root: Path
    """The named folder it was found in, or the folder of a named file: reads stay inside it."""


@dataclass(frozen=True)
class Excludes:
    """Configured exclude patterns (gitignore syntax) relative to the config's folder."""

    root: Path
    spec: pathspec.GitIgnoreSpec | None
    """None without patterns: most projects configure none, and pathspec then never loads."""

    @classmethod
    def from_patterns(cls, root: Path, patterns: list[str]) -> Excludes:
        return cls(root, gitignore_spec(patterns) if patterns else None)

    def excludes(self, path: Path, is_dir: bool = False) -> bool:
        if self.spec is None:
            return False
        try:
            relative = path.relative_to(self.root).as_posix()
        except ValueError:
            return False
        return self.spec.match_file(relative + "/" if is_dir else relative)


def gitignore_spec(patterns: list[str]) -> pathspec.GitIgnoreSpec:
    """Patterns in gitignore syntax, matched as git matches them; pathspec loads on first use."""
    import pathspec

    return pathspec.GitIgnoreSpec.from_lines(patterns)


def discover(
    paths: list[Path], excludes: Excludes, documents: bool = False
) -> tuple[list[Candidate], list[FileError]]:
    """The files to analyse under `paths`, sorted and without duplicates, and any I/O errors; with
    `documents`, the project's prose in the folders too, and its test configurations and license files,
    as candidates of no kind (`is_document`)."""
    found: dict[Path, Candidate] = {}
    errors: list[FileError] = []
    for given in paths:
        given = given.absolute()
        if os.path.isdir(given):
            listed = _git_files(given, errors)
            if listed is not None:
                files: Iterable[Path] = (path for path in listed if not _skipped(path, given, excludes))
            else:  # the walk enters no skipped folder: only the files themselves may be excluded
                files = (path for path in _walk(given, excludes, errors) if not excludes.excludes(path))
            for path in files:
                kinds = classify(path)
                if kinds or (documents and (is_document(path) or is_test_configuration(path) or is_license(path))):
                    found.setdefault(path, Candidate(path, kinds, given))
        else:
            kinds = named_file_kinds(given, errors)
            if kinds:
                found.setdefault(given, Candidate(given, kinds, given.parent))
    return sorted(found.values(), key=lambda c: c.path), errors


def named_file_kinds(path: Path, errors: list[FileError]) -> tuple[FileKind, ...]:
    """The kinds of a file named on the command line: by its name, else (no suffix) by its first
    bytes, so that a script with a python or shell shebang is read."""
    kinds = classify(path)
    if kinds or path.suffix:
        return kinds
    try:
        head = read_tree_file(path, path.parent, _SNIFF_BYTES, head=True)
    except UnreadableFile as exc:
        errors.append(FileError(str(path), exc.reason))
        return ()
    return classify(path, head)


def _git_files(folder: Path, errors: list[FileError]) -> list[Path] | None:
    """Tracked and untracked-but-not-ignored files under `folder`, or None outside git.

    A listed file in a folder the scan may not enter is left out, and the folder reported once."""
    if not _in_a_checkout(folder):
        return None
    try:
        listing = run_git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], folder)
    except GitUnavailable:
        return None
    if listing.returncode != 0:
        return None
    if not listing.stdout and _ignored_by_git(folder):
        return None  # a folder named explicitly is scanned even when git ignores it
    files = []
    unreadable: dict[Path, str] = {}
    for raw in listing.stdout.split(b"\0"):
        if raw:
            path = folder / os.fsdecode(raw)
            # Deleted-but-tracked files, submodules and symlinks are not regular files here;
            # a listing that names something outside the folder (a crafted index) is ignored.
            if is_within(path, folder) and _is_regular(path, unreadable):
                files.append(path)
    errors.extend(FileError(str(where), f"cannot read folder: {why}") for where, why in sorted(unreadable.items()))
    return files


def _in_a_checkout(folder: Path) -> bool:
    """Whether git may find a repository for `folder`: a `.git` in it or in a folder above it.

    Without one, git run there only fails (it finds repositories by that name alone, since
    `safe_git` passes on no `GIT_DIR`), and starting it twice to learn so costs more than a walk."""
    return any(os.path.lexists(os.path.join(candidate, ".git")) for candidate in (folder, *folder.parents))


def _is_regular(path: Path, unreadable: dict[Path, str]) -> bool:
    """Whether `path` is a regular file (not a link); a folder on the way that cannot be
    entered is noted in `unreadable`."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except PermissionError as exc:
        folder = path.parent
        while not os.access(folder.parent, os.X_OK) and folder.parent != folder:
            folder = folder.parent
        unreadable.setdefault(folder, exc.strerror or str(exc))
        return False
    except OSError:
        return False


def _ignored_by_git(folder: Path) -> bool:
    try:
        check = run_git(["check-ignore", "-q", "."], folder)
    except GitUnavailable:
        return False
    return check.returncode == 0


def _walk(folder: Path, excludes: Excludes, errors: list[FileError]) -> Iterator[Path]:
    """The files under `folder`, links neither followed nor listed. One `scandir` per folder: its
    entries know their own type, so no file costs a `stat` of its own, and a folder below `folder`
    that is a virtual environment says so by the names in its own listing."""
    root = os.fspath(folder)
    pending = [root]
    while pending:
        top = pending.pop()
        try:
            with os.scandir(top) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as exc:
            if top == root or not _is_environment(Path(top)):
                errors.append(FileError(str(exc.filename), f"cannot read folder: {exc.strerror or exc}"))
            continue
        if top != root and any(entry.name in VENV_MARKERS for entry in entries):
            continue
        folders = []
        for entry in entries:
            if entry.is_symlink():
                continue
            if _is_folder(entry):
                if entry.name not in SKIPPED_DIRS and not excludes.excludes(Path(entry.path), is_dir=True):
                    folders.append(entry.path)
            else:
                yield Path(entry.path)
        pending.extend(reversed(folders))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:
        return False


def _is_environment(folder: Path) -> bool:
    # os.path, not Path: a folder the scan may not enter answers False instead of raising.
    return any(os.path.lexists(folder / marker) for marker in VENV_MARKERS)


def _skipped(path: Path, given: Path, excludes: Excludes) -> bool:
    folders = os.fspath(path)[len(os.path.join(given, "")) :].split(os.sep)[:-1]
    return any(part in SKIPPED_DIRS for part in folders) or excludes.excludes(path)
