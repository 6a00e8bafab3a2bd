"""The project index's answers to a scan's files, kept whole between scans of an unchanged tree.

For a file whose result is in the cache, a scan needs one thing from the project index: the digest
of the file's facts, a part of the result's key. Building the index again from its cached per-file
readings (the import graph, the porting layer, each file's facts and their digests) was still about
a quarter of a warm scan of DeepSpeed. So the digests are kept as one cache entry, keyed by what the
index is a function of: the display path, kinds and content digest of every file it is given, under
cudaudit's code, the catalog and the scan's roots (the cache store's fingerprint). The three things the
index reads from outside that list, the texts that requirements files include with `-r`/`-c`,
the storages of the files the project's `torch.load` calls name and the extension binaries a
vendored package copy ships (`uncompiled_copies.cuda_binaries`), are read again on every use and
compared with what the entry was made from; any difference, like any change to a listed file, is a miss. The index itself is built only on a miss, or when a file must
be analysed (its facts are then needed whole).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from cudaudit.cache import Store
from cudaudit.facts import FileFacts
from cudaudit.filekinds import FileKind
from cudaudit.project_index import ProjectIndex, read_binaries, read_checkpoints, read_included
from cudaudit.safe_read import UnreadableFile

Listed = tuple[str, tuple[FileKind, ...]]
"""A file the index is given: its display path and kinds."""
_SLOT = "index"


class IndexAnswers:
    """Each scanned file's facts (`ProjectIndex.facts`), from an index built on first need, and
    their digests, from the cache entry when it was a hit."""

    def __init__(self, build: Callable[[], ProjectIndex], digests: dict[str, str] | None = None) -> None:
        self._build = build
        self._index: ProjectIndex | None = None
        self._digests = digests or {}
        self._shared: dict[int, tuple[object, str]] = {}

    @property
    def index(self) -> ProjectIndex:
        if self._index is None:
            self._index = self._build()
        return self._index

    def facts(self, display: str, kinds: tuple[FileKind, ...]) -> FileFacts:
        return self.index.facts(display, kinds)

    def digest(self, display: str, kinds: tuple[FileKind, ...]) -> str:
        """`FileFacts.digest` of the file's facts."""
        found = self._digests.get(display)
        if found is None:
            found = self._digests[display] = self.facts(display, kinds).digest(self._shared)
        return found


def index_answers(
    files: list[Listed],
    scanned: Iterable[Listed],
    build: Callable[[], ProjectIndex],
    store: Store | None,
    content_digest: Callable[[str], str],
    read: Callable[[str], bytes],
    roots: tuple[str, ...],
) -> IndexAnswers:
    """The answers for the `scanned` files, from `store`'s entry for `files` (every file the index is
    given) when it holds one whose included texts are unchanged, else from the index `build` makes,
    then kept in `store`. `content_digest` and `read` give a listed file's digest and bytes, or raise
    `UnreadableFile`."""
    if store is None:
        return IndexAnswers(build)
    key = store.key(*(f"{display}\0{','.join(k.value for k in kinds)}\0{_digest_or_why(content_digest, display)}"
                      for display, kinds in sorted(files)))
    found = store.get(_SLOT, key)
    if (_is_entry(found) and _unchanged(found[1], read, roots) and _same_checkpoints(found[2], roots)
            and _same_binaries(found[3], roots)):
        return IndexAnswers(build, found[0])
    answers = IndexAnswers(build)
    index = answers.index
    digests = {display: answers.digest(display, kinds) for display, kinds in scanned}
    store.put(_SLOT, key, (digests, index.included, index.shipped_checkpoints, index.shipped_binaries))
    store.save()
    return answers


def _digest_or_why(content_digest: Callable[[str], str], display: str) -> str:
    try:
        return content_digest(display)
    except UnreadableFile as exc:
        return f"unreadable: {exc.reason}"


def _unchanged(included: dict[str, tuple[tuple[str, str], ...]], read: Callable[[str], bytes],
               roots: tuple[str, ...]) -> bool:
    """Whether each requirements file still includes what it included when the entry was made: the
    included files are outside the key, and may have changed."""
    try:
        return all(read_included(path, read(path), roots) == texts for path, texts in included.items())
    except Exception:  # noqa: BLE001 - a file that no longer reads as it did is a miss: the index says why
        return False


def _same_checkpoints(shipped: dict[str, bool], roots: tuple[str, ...]) -> bool:
    """Whether each file the project's loads name still holds what it held when the entry was made
    (CPU storages only, or not): those files are outside the key too."""
    return not shipped or read_checkpoints(shipped, roots) == shipped


def _same_binaries(shipped: dict[str, bool], roots: tuple[str, ...]) -> bool:
    """Whether each vendored package copy still ships what it shipped when the entry was made (an
    extension binary that links CUDA, or none): those binaries are outside the key too."""
    return not shipped or read_binaries(shipped, roots) == shipped


def _is_entry(value: object) -> bool:
    return (
        isinstance(value, tuple)
        and len(value) == 4
        and isinstance(value[0], dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value[0].items())
        and isinstance(value[1], dict)
        and isinstance(value[2], dict)
        and isinstance(value[3], dict)
    )
