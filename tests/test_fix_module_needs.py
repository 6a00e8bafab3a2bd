"""What a Python fix needs at module level: one `DEVICE_TYPE` after the imports, `import torch`
itself, and imports a rewrite left unused removed; libcst's codemods only where a file needs them."""

from __future__ import annotations

import pytest

from cudaudit.fixers import python_module
from cudaudit.fixers.python_module import ModuleNeedsError, meet_module_needs

DEFINITION = (
    "\n# The accelerator this process runs on (cuda also on AMD ROCm), else cpu.\n"
    'DEVICE_TYPE = "cuda" if torch.cuda.is_available() else "cpu"\n'
)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            "import torch\nx = torch.zeros(1, device=DEVICE_TYPE)\n",
            "import torch\n" + DEFINITION + "\nx = torch.zeros(1, device=DEVICE_TYPE)\n",
            id="after-the-import",
        ),
        pytest.param(
            '"""Doc."""\nimport os\nimport torch\nfrom torch import (\n    nn,\n    optim,\n)\n\n\n# why\n@dec\ndef f():\n    pass\n',
            '"""Doc."""\nimport os\nimport torch\nfrom torch import (\n    nn,\n    optim,\n)\n'
            + DEFINITION
            + "\n\n# why\n@dec\ndef f():\n    pass\n",
            id="after-the-whole-import-block-before-comments-and-decorators",
        ),
        pytest.param(
            "import os; import torch\nimport sys; x = 1\n",
            "import os; import torch\nimport sys; x = 1\n" + DEFINITION,
            id="after-every-import-of-the-header",
        ),
        pytest.param(
            "import torch\nimport sys\nsys.path.insert(0, '..')\nfrom models import Net\ntry:\n    import apex\n"
            "except ImportError:\n    apex = None\n\nx = 1\n",
            "import torch\nimport sys\nsys.path.insert(0, '..')\nfrom models import Net\ntry:\n    import apex\n"
            "except ImportError:\n    apex = None\n" + DEFINITION + "\nx = 1\n",
            id="after-imports-that-follow-a-path-change-and-a-try-block-so-no-new-E402",
        ),
        pytest.param(
            "import torch\nx = torch.zeros(1, device=DEVICE_TYPE)\nimport late\n",
            "import torch\n" + DEFINITION + "\nx = torch.zeros(1, device=DEVICE_TYPE)\nimport late\n",
            id="before-the-first-statement-that-uses-it",
        ),
        pytest.param(
            "import torch as th\nimport os\n",
            "import torch as th\nimport os\n" + DEFINITION.replace("torch.cuda", "th.cuda"),
            id="with-the-modules-own-name-for-torch",
        ),
        pytest.param(
            "import torch",
            "import torch\n" + DEFINITION,
            id="no-final-newline",
        ),
        pytest.param(
            "import torch\nDEVICE_TYPE = \"cuda\" if torch.cuda.is_available() else \"cpu\"\n",
            "import torch\nDEVICE_TYPE = \"cuda\" if torch.cuda.is_available() else \"cpu\"\n",
            id="already-defined-by-a-previous-run",
        ),
    ],
)
def test_device_type_goes_after_the_import_block(before, after):
    assert meet_module_needs(before, {"DEVICE_TYPE"}, [], None) == after


def test_import_torch_is_added_where_missing():
    code = "from torch import nn\ntry:\n    import torch\nexcept ImportError:\n    pass\nx = 1\n"
    fixed = meet_module_needs(code, {"DEVICE_TYPE"}, [], None)
    assert fixed.startswith("from torch import nn\nimport torch\n\ntry:\n    import torch\nexcept ImportError:\n    pass\n" + DEFINITION)


def test_an_import_left_unused_is_removed_and_one_still_read_is_kept():
    code = "import torch\nfrom torch.cuda.amp import autocast, GradScaler\nwith torch.amp.autocast('cuda'):\n    pass\n"
    fixed = meet_module_needs(code, set(), ["torch.cuda.amp.autocast"], None)
    assert "from torch.cuda.amp import GradScaler\n" in fixed
    still_read = code + "with autocast():\n    pass\n"
    assert meet_module_needs(still_read, set(), ["torch.cuda.amp.autocast"], None) == still_read


def test_libcst_runs_only_when_imports_change(monkeypatch, tmp_path):
    """Most files already import torch and still read what they imported: no codemod for them."""
    calls = tmp_path / "calls"  # the codemod runs in a child process: it reports through a file
    calls.write_text("")
    real = python_module._update_imports

    def spy(*args):
        with calls.open("a") as log:
            log.write("called\n")
        return real(*args)

    monkeypatch.setattr(python_module, "_update_imports", spy)
    meet_module_needs("import torch\nfrom torch.cuda.amp import autocast\nautocast()\n", {"DEVICE_TYPE"},
                      ["torch.cuda.amp.autocast"], None)
    assert calls.read_text() == ""
    meet_module_needs("from torch.cuda.amp import autocast\n", {"import torch"}, [], None)
    assert calls.read_text() == "called\n"


def test_a_module_with_its_own_device_type_is_refused():
    with pytest.raises(ModuleNeedsError, match="its own way"):
        meet_module_needs("import torch\nDEVICE_TYPE = 'cuda'\n", {"DEVICE_TYPE"}, [], None)
