"""Settings of several values: a branch only another value than the default takes is another path
(`setting_values.py`, `names._chosen_settings`, `choice_settings.py`, `regions.region_after`)."""

from __future__ import annotations

import ast

import pytest

from cudaudit.rules.python.choice_settings import chosen_elsewhere, declared_choices, picked_elsewhere
from cudaudit.rules.python.setting_values import field_default, holds
from support import scan_json, write

CONFIG = '''
import enum
from dataclasses import dataclass, field
from typing import Literal, Optional


class Sched(str, enum.Enum):
    LEGACY = "legacy"
    OVERLAP = "overlap"


@dataclass
class EngineConfig:
    sched: Sched = Sched.LEGACY
    ring_size: int = 1
    graphs: Literal["none", "local"] = "none"
    quant: Optional[str] = field(default=None)
    max_len: Optional[int] = None

    def check(self):
        scratch: int = 4
        return scratch
'''

ENGINE = '''
import torch


class Engine:
    def __init__(self, config):
        self.config = config

    def step(self):
        mode = self.config.sched
        if mode == Sched.LEGACY:
            return self._plain()
        return self._overlapped()

    def _plain(self):
        torch.cuda.synchronize()

    def _overlapped(self):
        torch.cuda.synchronize()

    def ring(self):
        if self.config.ring_size > 1:
            torch.cuda.synchronize()
        if self.config.ring_size >= 1:
            torch.cuda.synchronize()
        if self.config.graphs != "none":
            torch.cuda.synchronize()
        if self.config.quant is not None:
            torch.cuda.synchronize()

    def bounded(self):
        if self.config.max_len is None:
            raise ValueError("set max_len")
        torch.cuda.synchronize()
'''

FROM_CONFIG = "from pkg.config import Sched\n"
LINES = {"plain": 16, "overlapped": 19, "ring_above_one": 23, "ring_at_least_one": 25, "graphs": 27, "quant": 29, "bounded": 34}


def _severities(report: dict, path: str) -> dict[int, str]:
    return {f["line"]: f["targets"]["cpu"]["severity"] for f in report["findings"] if f["path"] == path}


def _project(root, engine: str = ENGINE) -> None:
    write(root / "pkg" / "__init__.py", "")
    write(root / "pkg" / "config.py", CONFIG)
    write(root / "pkg" / "engine.py", FROM_CONFIG + engine)
    write(root / "run.py", "from pkg.config import EngineConfig\nfrom pkg.engine import Engine\n\nEngine(EngineConfig()).step()\n")


def test_a_branch_only_another_value_takes_is_another_path_where_another_module_declares_the_default(cli, tmp_path):
    _project(tmp_path)
    found = _severities(scan_json(cli, ".", "--no-cache"), "pkg/engine.py")
    lines = {line + 1: name for name, line in LINES.items()}  # the import line in front
    assert {lines[line]: severity for line, severity in found.items()} == {
        "plain": "error",  # the default's own branch
        "overlapped": "warning",  # after `if mode == Sched.LEGACY: return ...`: only another mode runs it
        "ring_above_one": "warning",
        "ring_at_least_one": "error",  # holds on the default
        "graphs": "warning",
        "quant": "warning",
        "bounded": "error",  # a stop on the default makes the setting required, not an opt-in
    }


def test_settings_the_project_sets_in_several_folders_are_the_normal_path(cli, tmp_path):
    _project(tmp_path)
    write(tmp_path / "recipes" / "a" / "run.yaml", "ring_size: 4\n")
    write(tmp_path / "recipes" / "b" / "run.yaml", "ring_size: 8\n")
    found = _severities(scan_json(cli, ".", "--no-cache"), "pkg/engine.py")
    assert found[LINES["ring_above_one"] + 1] == "error"
    assert found[LINES["graphs"] + 1] == "warning"  # one setting turned on says nothing of the others


def test_a_record_of_an_enum_type_is_no_setting(cli, tmp_path):
    write(tmp_path / "comm.py", '''
import enum
from dataclasses import dataclass

import torch


class Role(enum.Enum):
    SENDER = 1
    RECEIVER = 2


@dataclass
class RankInfo:
    role: Role = Role.SENDER


def receive(info):
    if info.role == Role.RECEIVER:
        return torch.empty(3, device=torch.cuda.current_device())
''')
    found = _severities(scan_json(cli, ".", "--no-cache"), "comm.py")
    assert set(found.values()) == {"error"}  # the code sets each rank's role: no default to opt out of


def test_an_option_with_a_number_default_in_the_module_itself(cli, tmp_path):
    write(tmp_path / "train.py", '''
import argparse

import torch

parser = argparse.ArgumentParser()
parser.add_argument("--accum-steps", type=int, default=1)
parser.add_argument("--model", default="small")
args = parser.parse_args()
if args.accum_steps > 1:
    torch.cuda.synchronize()
if args.model == "large":
    torch.cuda.synchronize()
''')
    found = _severities(scan_json(cli, ".", "--no-cache"), "train.py")
    assert found == {11: "warning", 13: "error"}  # a free string option names no set of values


def test_declared_choices_reads_fields_of_settings_classes_and_options():
    declared = dict(declared_choices(CONFIG.encode()))
    assert declared == {"sched": ("Sched", "LEGACY"), "ring_size": 1, "graphs": "none", "quant": None, "max_len": None}
    record = b"class Record:\n    kind: str = 'a'\n    mode: Literal['a', 'b'] = 'b'\n"
    assert dict(declared_choices(record)) == {"mode": "b"}  # a plain field of another class is no setting
    options = (
        b'p.add_argument("--impl", choices=["a", "b"], default="a")\np.add_argument("--n", type=int, default=2)\n'
        b'p.add_argument("--resume", default=None)\np.add_argument("--name", default="run")\n'
    )
    assert dict(declared_choices(options)) == {"impl": "a", "n": 2}  # a path or a free string is no choice


def test_chosen_elsewhere_needs_agreeing_defaults_and_a_read_from_settings():
    config = {"cfg.py": (("ring_size", 1), ("impl", "none"))}
    engine = b"if self.config.ring_size > 1:\n    go()\nif model.impl == 'x':\n    go()\n"
    python = {"engine.py": lambda: engine}
    assert chosen_elsewhere(config, frozenset(), ["engine.py"], python, {}) == {"engine.py": (("ring_size", 1),)}
    disagreeing = {**config, "other.py": (("ring_size", 2),)}
    assert chosen_elsewhere(disagreeing, frozenset(), ["engine.py"], python, {}) == {}
    assert chosen_elsewhere(config, frozenset({"ring_size"}), ["engine.py"], python, {}) == {}


def test_picked_elsewhere_counts_folders_that_give_another_value():
    files = {
        "a/x.yaml": lambda: b"impl: local\n",
        "b/y.sh": lambda: b"python run.py --impl local\n",
        "c/z.yaml": lambda: b"impl: none\n",
        "d/call.py": lambda: b"Engine(impl=choose())\n",
    }
    assert picked_elsewhere({"impl": "none"}, files) == {"impl"}
    assert picked_elsewhere({"impl": "none"}, {k: files[k] for k in ("a/x.yaml", "c/z.yaml", "d/call.py")}) == set()


@pytest.mark.parametrize(
    ("default", "test", "expected"),
    [
        (1, "x > 1", False),
        (1, "x >= 1", True),
        (1, "x == 1.0", True),
        (None, "x is not None", False),
        ("none", "x != 'none'", False),
        ("none", "x in ('a', 'none')", True),
        (("Sched", "LEGACY"), "x == Sched.OVERLAP", False),
        (("Sched", "LEGACY"), "x == Other.OVERLAP", None),  # another enum: unknown
        (("Sched", "LEGACY"), "x == 'legacy'", None),  # an enum of strings equals its values
        ("a", "x > 'b'", None),
    ],
)
def test_holds_on_the_default(default, test, expected):
    compare = ast.parse(test, mode="eval").body
    assert isinstance(compare, ast.Compare)
    assert holds(default, compare.ops[0], compare.comparators[0]) is expected


def test_a_field_of_booleans_or_of_another_enum_has_no_chosen_default():
    def default(text: str):
        node = ast.parse(text).body[0]
        assert isinstance(node, ast.AnnAssign) and node.value is not None
        return field_default(node.annotation, node.value)

    assert default("x: bool = False") is None
    assert default("x: Sched = Other.A") is None
    assert default("x: Literal['a', 'b'] = 'c'") is None
    assert default("x: Optional[str] = Field(None, description='d')") == (None,)
    assert default("x: int = field(default=-2)") == (-2,)
