"""The `if PARAM is None:` arm of a function every call on the normal path passes a value runs only
where its module's own `__main__` block leaves the parameter out: another path (`walker._none_arm_aside`)."""

from __future__ import annotations

import pytest

from support import scan_json, write

EVALUATE = (
    "import sys\nimport torch\nfrom torch import nn\n\n\n"
    "def run_eval(ckpt, model=None):\n    if model is None:\n        model = nn.Linear(4, 2)\n"
    "        model.load_state_dict(torch.load(ckpt, map_location=f'cuda:{0}'))\n"
    "    return model(torch.randn(2, 4)).mean().item()\n\n\n"
    "if __name__ == '__main__':\n    print(run_eval(sys.argv[1]))\n"
)
TRAIN = (
    "from torch import nn\nfrom evaluate import run_eval\n\n\n"
    "def main():\n    model = nn.Linear(4, 2)\n    print({call})\n\n\nif __name__ == '__main__':\n    main()\n"
)


@pytest.mark.parametrize(
    ("call", "readme", "severity"),
    [
        ("run_eval(None, model=model)", "Train: `python train.py`\n", "warning"),  # only `__main__` passes None
        ("run_eval(None, model)", "Train: `python train.py`\n", "warning"),  # by position
        ("run_eval('last.pt')", "Train: `python train.py`\n", "error"),  # the training run leaves it out
        ("run_eval('last.pt', model=None)", "Train: `python train.py`\n", "error"),  # or passes None
        ("run_eval(None, model=model)", "Train: `python train.py`\nEvaluate: `python evaluate.py last.pt`\n", "error"),  # documented
    ],
)
def test_an_arm_only_the_modules_own_main_block_takes_is_another_path(cli, tmp_path, call, readme, severity):
    write(tmp_path / "evaluate.py", EVALUATE)
    write(tmp_path / "train.py", TRAIN.format(call=call))
    write(tmp_path / "README.md", readme)
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["path"], f["line"], f["targets"]["cpu"]["severity"]) for f in report["findings"] if f["rule"] == "CDA103"] == [
        ("evaluate.py", 9, severity)
    ]
