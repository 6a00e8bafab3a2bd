"""A keyword whose literal default no call of the project replaces closes the arm its tests give
another value (`rules/python/held_defaults.py`, through the project index, read by
`walker._held_default`): another path in an installable library, no path in an application."""

from __future__ import annotations

import ast

import pytest

from cudaudit.rules.python.held_defaults import default_holds, held_defaults, literal_defaults
from support import scan_json, write

LOSSES = '''
import torch


class Critic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.zero = None

    def get_zero_tensor(self, x):
        if self.zero is None:
            self.zero = torch.zeros(1).cuda()
        return self.zero.expand_as(x)

    def forward(self, real, fake, gan_mode="ls"):
        if gan_mode == "hinge":
            return torch.min(real - 1, self.get_zero_tensor(real)).mean()
        elif gan_mode == "ls":
            return ((1 - real) ** 2 + fake ** 2).mean()
        raise ValueError(gan_mode)
'''
CUDA_LINE = 12
TRAIN = '''
import torch

from losses import Critic

critic = Critic()
print(critic(torch.ones(2), torch.zeros(2){passed}))
'''


def _severity(cli, root, passed: str = "", losses: str = LOSSES) -> str | None:
    write(root / "losses.py", losses)
    write(root / "train.py", TRAIN.replace("{passed}", passed))
    write(root / "README.md", "# Critic\n\n```\npython train.py\n```\n")
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return next((f["severity"] for f in report["findings"] if f["path"] == "losses.py" and f["line"] == CUDA_LINE), None)


def test_an_arm_the_default_closes_runs_nowhere_in_an_application(cli, tmp_path):
    # every call is one the scan sees, and none passes `gan_mode`: the helper only `hinge` calls never runs
    assert _severity(cli, tmp_path) is None


def test_an_arm_the_default_closes_is_another_path_in_a_library(cli, tmp_path):
    # a user of the installed package may pass `gan_mode="hinge"`: which is why the keyword exists
    write(tmp_path / "pyproject.toml", '[project]\nname = "critic"\nversion = "0.1"\n')
    assert _severity(cli, tmp_path) == "warning"


@pytest.mark.parametrize("passed", [
    ', gan_mode="hinge"',  # by keyword
    ', "hinge"',  # at its place, through `nn.Module.__call__`, which no call of `forward` shows
])
def test_a_call_that_passes_another_value_keeps_the_arm(cli, tmp_path, passed):
    assert _severity(cli, tmp_path, passed) == "error"


def test_a_truth_value_forward_takes_by_position_is_another_path(cli, tmp_path):
    # `critic(real, fake, False)` reaches `forward` through `nn.Module.__call__`, where no call of
    # `forward` shows the value: a True default there closes its arm to another path, never to silence
    losses = LOSSES.replace('gan_mode="ls"', "ls=True").replace('if gan_mode == "hinge":', "if not ls:")
    losses = losses.replace('elif gan_mode == "ls":', "else:").replace("raise ValueError(gan_mode)\n", "")
    assert _severity(cli, tmp_path, ", False", losses) == "warning"


def test_a_membership_test_of_another_type_decides_nothing(cli, tmp_path):
    # `steps in "abc"` raises TypeError in Python: the reading leaves it undecided, and the scan goes on
    losses = LOSSES.replace('gan_mode="ls"', "steps=3").replace('if gan_mode == "hinge":', 'if steps in "abc":')
    losses = losses.replace('elif gan_mode == "ls":', "else:").replace("raise ValueError(gan_mode)\n", "")
    assert _severity(cli, tmp_path, "", losses) == "error"


def test_a_configuration_that_gives_the_keyword_keeps_the_arm(cli, tmp_path):
    write(tmp_path / "configs" / "train.yaml", "loss:\n  gan_mode: hinge\n")
    assert _severity(cli, tmp_path) == "error"


def test_a_parameter_the_function_binds_again_keeps_the_arm(cli, tmp_path):
    rebound = LOSSES.replace('        if gan_mode == "hinge":', '        gan_mode = gan_mode.lower()\n        if gan_mode == "hinge":')
    assert _severity(cli, tmp_path, losses=rebound) == "error"


@pytest.mark.parametrize(("test", "holds"), [
    ('gan_mode == "hinge"', False),
    ('"hinge" != gan_mode', True),
    ('gan_mode in ("ls", "wgan")', True),
    ("not vad", False),
    ("vad and gan_mode == 'hinge'", False),
    ("vad or other", True),
    ("other", None),  # a name without a default decides nothing
    ("gan_mode.startswith('h')", None),
    ('vad in "abc"', None),  # a comparison Python itself refuses
])
def test_default_holds(test, holds):
    assert default_holds(ast.parse(test, mode="eval").body, {"gan_mode": "ls", "vad": True}) is holds


def test_literal_defaults_reads_parameters_a_header_tests():
    assert literal_defaults(LOSSES.encode()) == ("gan_mode",)
    assert literal_defaults(b"def f(x, steps: int = 4, vad=True):\n    if vad:\n        return steps\n") == ("vad",)
    assert literal_defaults(b'f(mode="ls")\nif mode == "x":\n    pass\n') == ()  # a call, not a signature


def test_held_defaults_ignores_the_test_suite_and_reads_documents():
    code = {"losses.py": LOSSES.encode, "tests/test_losses.py": b'critic(a, b, gan_mode="hinge")\n'.__bytes__}
    assert held_defaults({"losses.py": ("gan_mode",)}, code, {}) == {"losses.py": frozenset({"gan_mode"})}
    documents = {"README.md": b"Pass `gan_mode=hinge` for the hinge loss.\n".__bytes__}
    assert held_defaults({"losses.py": ("gan_mode",)}, code, documents) == {}
