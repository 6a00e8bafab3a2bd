"""A distributed switch the project's own configuration turns on: its launch branch is the normal
path and the single-process branch the other one (`rules/python/launch_switches.py`, through the
project index, read by `regions.branch_regions`)."""

from __future__ import annotations

import pytest

from cudaudit.rules.python.launch_switches import switches_on
from support import scan_json, write

PARALLEL = '''
import torch
import torch.distributed as dist


def parallelize(config, model):
    if config.distributed:
        dist.init_process_group(backend="nccl", world_size=config.world_size, rank=config.rank)
        torch.cuda.set_device(config.gpu)
        model = torch.nn.parallel.DistributedDataParallel(model.cuda(config.gpu), device_ids=[config.gpu])
    elif config.gpu is None:
        model = torch.nn.DataParallel(model.cuda())
    return model
'''
LINES = {"backend": 8, "set_device": 9, "ids": 10, "single": 12}

DEFAULTS = '''
TRAINING = {
    "epochs": 10,
    "distributed": DISTRIBUTED,
}


def get_config(**overrides):
    return {**TRAINING, **overrides}
'''


def _severities(cli, root) -> dict[str, set[str]]:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    lines = {line: name for name, line in LINES.items()}
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        if finding["path"] == "parallel.py" and finding["line"] in lines:
            found.setdefault(lines[finding["line"]], set()).add(finding["targets"]["cpu"]["severity"])
    return found


def _project(root, distributed: str = "True", extra: dict[str, str] | None = None) -> None:
    write(root / "parallel.py", PARALLEL)
    write(root / "config.py", DEFAULTS.replace("DISTRIBUTED", distributed))
    for path, text in (extra or {}).items():
        write(root / path, text)


def test_a_switch_the_shipped_defaults_turn_on_makes_the_launch_the_normal_path(cli, tmp_path):
    _project(tmp_path)
    assert _severities(cli, tmp_path) == {
        "backend": {"error"}, "set_device": {"error"}, "ids": {"error"},
        "single": {"warning"},  # DataParallel runs only where a user turns the switch off
    }


@pytest.mark.parametrize(("distributed", "extra"), [
    ("False", None),  # off by default: the launch is the opt-in
    ("True", {"train.py": 'parser.add_argument("--distributed", action="store_true")\n'}),  # the user's choice
    ("True", {"run.py": "config.distributed = False\n"}),  # the code turns it off somewhere
    ("True", {"configs/single.yaml": "distributed: false\n"}),  # a shipped configuration runs one process
])
def test_a_switch_anything_keeps_off_keeps_the_launch_another_path(cli, tmp_path, distributed, extra):
    _project(tmp_path, distributed, extra)
    assert _severities(cli, tmp_path) == {
        "backend": {"warning"}, "set_device": {"warning"}, "ids": {"warning"}, "single": {"error"},
    }


def _on(files: dict[str, str], tested: tuple[str, ...] = ("distributed",)) -> frozenset[str]:
    python = {path: (lambda text=text: text.encode()) for path, text in files.items() if path.endswith(".py")}
    configs = {path: (lambda text=text: text.encode()) for path, text in files.items() if path.endswith(".yaml")}
    return switches_on(tested, python, configs)


@pytest.mark.parametrize(("files", "on"), [
    ({"cfg.yaml": "train:\n  distributed: true\n"}, True),
    ({"cfg.yaml": "distributed: true\n", "other.yaml": "distributed: false\n"}, False),
    ({"fields.py": "class TrainConfig:\n    distributed: bool = True\n"}, False),  # a field any configuration sets
    ({"cfg.py": 'DEFAULTS = {"distributed": True}\n', "launch.py": "distributed = True\n"}, True),
    ({"launch.py": "distributed = True\n"}, False),  # computed, not shipped: nothing declares it
    ({"cfg.yaml": "use_amp: true\n"}, False),
])
def test_switches_on_reads_every_value_given_to_a_switch(files, on):
    assert bool(_on(files)) is on


def test_only_multi_process_switches_are_read():
    assert _on({"cfg.yaml": "use_amp: true\n"}, ("use_amp",)) == frozenset()
