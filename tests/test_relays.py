"""A stage two imports below the program (`callers._relays`): the module that imports a function with CUDA
lines and calls it from a public function of its own hands it on, and what the program does with that
function decides where the lines run. One import more, and no further."""

from __future__ import annotations

import pytest

from support import analyze

STAGE = '''
import torch


def match_tiles(paths):
    weights = torch.ones(len(paths)).cuda()
    return float(weights.sum())
'''

RELAY = '''
from mosaic.align.matching import match_tiles


def estimate_overlap(folder):
    return match_tiles([folder + "/left.png", folder + "/right.png"])
'''

PACKAGE = {"mosaic/__init__.py": "", "mosaic/align/__init__.py": ""}


def _script(call: str) -> str:
    body = "\n".join("    " + line for line in call.strip().splitlines())
    return f"import argparse\n\nimport torch\n\nfrom mosaic.overlap import estimate_overlap\n\n\ndef main():\n{body}\n\n\nif __name__ == \"__main__\":\n    main()\n"


def _cpu(files: dict[str, str]) -> set[str]:
    found = analyze(STAGE, path="mosaic/align/matching.py", files={"README.md": "Run `python stitch.py`.\n", **PACKAGE, **files})
    return {f.targets["cpu"].severity.value for f in found if f.rule == "CDA102"}


@pytest.mark.parametrize(("call", "severity"), [
    ("try:\n    overlap = estimate_overlap('tiles')\nexcept Exception:\n    overlap = 0.25\nprint(overlap)", "warning"),
    ("if torch.cuda.is_available():\n    print(estimate_overlap('tiles'))", "note"),
    ("print(estimate_overlap('tiles'))", "error"),
    ("try:\n    ok = estimate_overlap('tiles') > 0\nexcept Exception:\n    ok = False\nprint(ok)", "note"),
])
def test_the_program_two_imports_up_decides_where_the_stage_runs(call, severity):
    """A default in place of the stage's result degrades the run (a warning); a device test guards it (a
    note); no test leaves the error; a yes or no is a probe's answer (guarded)."""
    assert _cpu({"mosaic/overlap.py": RELAY, "stitch.py": _script(call)}) == {severity}


def test_a_use_beside_the_relays_keeps_the_error():
    """`match_tiles` also runs at the relay module's import: not the relays' to settle."""
    relay = RELAY + "\nWARM = match_tiles(['warm.png'])\n"
    call = "try:\n    overlap = estimate_overlap('tiles')\nexcept Exception:\n    overlap = 0.25\nprint(overlap)"
    assert _cpu({"mosaic/overlap.py": relay, "stitch.py": _script(call)}) == {"error"}


def test_a_relay_called_through_its_module_is_not_followed():
    """`overlap.estimate_overlap(...)` after `from mosaic import overlap`: a use not followed, the error stays."""
    call = "try:\n    value = overlap.estimate_overlap('tiles')\nexcept Exception:\n    value = 0.25\nprint(value)"
    script = _script(call).replace("from mosaic.overlap import estimate_overlap", "from mosaic import overlap")
    assert _cpu({"mosaic/overlap.py": RELAY, "stitch.py": script}) == {"error"}


def test_no_third_import_is_followed():
    """A stage three imports below the script keeps its error: the reading is bounded to two."""
    middle = "from mosaic.overlap import estimate_overlap\n\n\ndef stitch(folder):\n    return estimate_overlap(folder)\n"
    call = "try:\n    value = stitch('tiles')\nexcept Exception:\n    value = 0.25\nprint(value)"
    script = _script(call).replace("from mosaic.overlap import estimate_overlap", "from mosaic.stitching import stitch")
    assert _cpu({"mosaic/overlap.py": RELAY, "mosaic/stitching.py": middle, "stitch.py": script}) == {"error"}


@pytest.mark.parametrize("caller", [
    "def overlap_report(folder):\n    return estimate_overlap(folder) * 100\n",
    "def _warm():\n    return estimate_overlap('warm')\n\n\nWARM = _warm()\n",
])
def test_a_relay_its_own_module_calls_keeps_the_error(caller):
    """A function of the relay's module that calls the relay (a public one nothing calls, the project's
    API; a private one run at import) runs the stage past the script's fallback: the error stays."""
    call = "try:\n    overlap = estimate_overlap('tiles')\nexcept Exception:\n    overlap = 0.25\nprint(overlap)"
    assert _cpu({"mosaic/overlap.py": RELAY + "\n\n" + caller, "stitch.py": _script(call)}) == {"error"}
