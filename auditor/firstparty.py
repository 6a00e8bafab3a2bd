"""The scanned project's own top-level modules.

Inside flash-attention, `from flash_attn import ...` is the project importing itself, not
a dependency on a CUDA-only library; the same goes for a script importing a module that
sits beside it. Such imports are never lock-in findings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def first_party_modules(roots: Iterable[Path]) -> frozenset[str]:
    """Packages and modules at the top of each root (or its `src/`), and the roots themselves.

    `os.path` answers False for a folder the scan may not enter, where `Path.is_file` raises."""
    names: set[str] = set()
    for root in roots:
        root = root.absolute()
        if not os.path.isdir(root):
            continue
        if os.path.isfile(root / "__init__.py"):
            names.add(root.name)
        for base in (root, root / "src"):
            try:
                children = list(base.iterdir())
            except OSError:
                continue
            for child in children:
                if child.suffix == ".py" and os.path.isfile(child):
                    names.add(child.stem)
                elif os.path.isfile(child / "__init__.py"):
                    names.add(child.name)
    return frozenset(names)


def sibling_modules(folder: str) -> tuple[str, ...]:
    """The top-level names `is_sibling_module` finds in `folder` (`x` for `x.py`, and for `x/`
    with an `__init__.py`), sorted: what a cached analysis of a file in `folder` depends on
    besides the file itself."""
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return ()
    modules = {name[:-3] for name in names if name.endswith(".py") and os.path.isfile(os.path.join(folder, name))}
    modules.update(name for name in names if os.path.isfile(os.path.join(folder, name, "__init__.py")))
    return tuple(sorted(modules))


def is_sibling_module(path: str, module: str) -> bool:
    """Whether `module`'s top level sits beside the file at `path` (script-style imports)."""
    folder = Path(path).parent
    top = module.partition(".")[0]
    return os.path.isfile(folder / f"{top}.py") or os.path.isfile(folder / top / "__init__.py")
