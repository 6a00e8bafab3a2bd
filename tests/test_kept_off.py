"""A keyword that defaults to False and that nothing in the project turns on: what a test of it
guards, and the modules imported only there, are another path (`rules/python/kept_off.py`, through
the project index, read by `opt_in.switched_definitions` and `names.off_by_default`)."""

from __future__ import annotations

import pytest

from cudaudit.rules.python.kept_off import defaulted_off, given_in_code, kept_off, off_in_yaml, off_lookups, yaml_tests
from support import scan_json, write

CHAT = '''
from .model import Model


class Chat:
    def load(self, path, use_engine=False):
        self.model = Model(path, use_engine=use_engine)
        return self.model.prepare()
'''
MODEL = '''
import torch


class Model:
    def __init__(self, path, use_engine=False):
        self.path = path
        self.is_engine = use_engine

    def prepare(self):
        if self.is_engine:
            from .engine import Engine
            self.engine = Engine(self.path)
            return self.engine
        return torch.load(self.path, map_location="cpu")
'''
ENGINE_INIT = "from .runner import Engine\n"
RUNNER = '''
from .worker import Worker


class Engine:
    def __init__(self, path):
        self.worker = Worker(path)
'''
WORKER = '''
import torch


class Worker:
    def __init__(self, path):
        self.cache = torch.zeros(4, device="cuda")
'''
CUDA_LINE = 7


def _project(root, example: str) -> None:
    write(root / "README.md", "# Voice\n\nSee `examples/speak.py`.\n")
    write(root / "voice" / "__init__.py", "from .core import Chat\n")
    write(root / "voice" / "core.py", CHAT)
    write(root / "voice" / "model.py", MODEL)
    write(root / "voice" / "engine" / "__init__.py", ENGINE_INIT)
    write(root / "voice" / "engine" / "runner.py", RUNNER)
    write(root / "voice" / "engine" / "worker.py", WORKER)
    write(root / "examples" / "speak.py", example)


def _worker_severity(cli, root) -> str:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return next(
        f["severity"] for f in report["findings"] if f["path"] == "voice/engine/worker.py" and f["line"] == CUDA_LINE
    )


def test_an_engine_only_a_keyword_nothing_turns_on_imports_is_another_path(cli, tmp_path):
    _project(tmp_path, "from voice import Chat\n\nChat().load('model.pt')\n")
    assert _worker_severity(cli, tmp_path) == "warning"


@pytest.mark.parametrize("example", [
    "from voice import Chat\n\nChat().load('model.pt', use_engine=True)\n",  # a shipped example turns it on
    "import sys\nfrom voice import Chat\n\nChat().load('model.pt', use_engine='--engine' in sys.argv)\n",
])
def test_a_keyword_the_project_may_turn_on_keeps_the_engine(cli, tmp_path, example):
    _project(tmp_path, example)
    assert _worker_severity(cli, tmp_path) == "error"


def test_a_document_that_turns_the_keyword_on_keeps_the_engine(cli, tmp_path):
    _project(tmp_path, "from voice import Chat\n\nChat().load('model.pt')\n")
    write(tmp_path / "docs" / "engine.md", "```python\nchat.load('model.pt', use_engine=True)\n```\n")
    assert _worker_severity(cli, tmp_path) == "error"


def test_defaulted_off_reads_tested_parameters_and_the_attributes_that_keep_them():
    assert defaulted_off(MODEL.encode()) == (("is_engine", "use_engine"),)
    assert defaulted_off(b"def f(x, fast=False):\n    if fast and x:\n        return x\n") == (("fast", "fast"),)
    assert defaulted_off(b"def f(x, fast=False):\n    return fast or x\n") == ()  # never tested in a header
    assert defaulted_off(b"f(fast=False)\nif fast:\n    pass\n") == ()  # a call, not a signature


def test_kept_off_follows_names_handed_on_and_refuses_any_other_value():
    candidates = {"chat.py": (("use_engine", "use_engine"),), "model.py": (("is_engine", "use_engine"),)}
    code = {
        "chat.py": lambda: CHAT.encode(),
        "model.py": lambda: MODEL.encode(),
        "app.py": lambda: b"if chat.model.is_engine:\n    print('engine')\n",
    }
    kept = kept_off(candidates, code, {})
    assert kept == {
        "chat.py": frozenset({"use_engine"}),
        "model.py": frozenset({"is_engine", "use_engine"}),
        "app.py": frozenset({"is_engine"}),
    }
    turned = {**code, "run.py": lambda: b"Chat().load('m.pt', use_engine=args.engine)\n"}
    assert kept_off(candidates, turned, {}) == {}  # the value a script hands it is not followed: both are refused
    assert kept_off(candidates, code, {"config.yaml": lambda: b"use_engine: true\n"}) == {}
    tests = {**code, "tests/test_chat.py": lambda: b"Chat().load('m.pt', use_engine=True)\n"}
    assert kept_off(candidates, tests, {}) == kept  # the test suite turns on what it tests


@pytest.mark.parametrize(("call", "kept"), [
    (b"Chat().load('m.pt', True)\n", False),  # turned on by position
    (b"Chat().load('m.pt', engine_flag)\n", False),  # handed a name nothing keeps off
    (b"Chat().load('m.pt', *options)\n", True),  # a starred argument: not read (`text.decode(*ARGS)`)
    (b"Chat().load('m.pt', False)\n", True),
    (b"Chat().load('m.pt')\nreload(a, True)\n", True),  # another function's call
    (b"Model('m.pt', True)\n", False),  # `__init__` is called by its class's name
])
def test_kept_off_reads_a_keyword_passed_by_position(call, kept):
    candidates = {"chat.py": (("use_engine", "use_engine"),), "model.py": (("is_engine", "use_engine"),)}
    code = {"chat.py": lambda: CHAT.encode(), "model.py": lambda: MODEL.encode(), "run.py": lambda: call}
    assert bool(kept_off(candidates, code, {})) is kept


PENALTY = '''
import torch


def grad_penalty(pred, scaler=None, use_old_amp: bool = False):
    if scaler:
        pred = scaler.scale(pred)
    elif use_old_amp:
        from apex.amp._amp_state import _amp_state
        pred = _amp_state.loss_scalers[0].loss_scale() * pred.float()
    return pred.pow(2).mean()
'''
CRITIC = '''
from .penalty import grad_penalty


class Critic:
    def __init__(self, loss_config=None):
        self.loss_config = loss_config or {}
        self.gp_old_amp = self.loss_config.get('gp_old_amp',
                                               False)

    def step(self, pred):
        return grad_penalty(pred, use_old_amp=self.gp_old_amp)
'''
TRAIN = '''
import runpy
import sys

from critic.model import Critic

config = runpy.run_path(sys.argv[1])
print(Critic(config["loss_config"]).step(config["pred"]))
'''
APEX_LINE = 9


def _configured_project(root, half_config: str, doc: str = "") -> None:
    write(root / "README.md", "# Critic\n\n`python train.py configs/half.py`\n" + doc)
    write(root / "critic" / "__init__.py", "")
    write(root / "critic" / "penalty.py", PENALTY)
    write(root / "critic" / "model.py", CRITIC)
    write(root / "train.py", TRAIN)
    write(root / "configs" / "base.py", "loss_config = dict(weight=1.0)\n")
    write(root / "configs" / "half.py", half_config)


def _apex_severity(cli, root) -> str:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return next(f["severity"] for f in report["findings"] if f["path"] == "critic/penalty.py" and f["line"] == APEX_LINE)


@pytest.mark.parametrize(("half_config", "doc", "severity"), [
    # every shipped configuration that names the key leaves it off; a document's old code passes it False
    ("loss_config = dict(weight=1.0, gp_old_amp=False)\n", "```python\nstep(x, use_old_amp=False)\n```\n", "warning"),
    ("loss_config = dict(weight=1.0, gp_old_amp=True)\n", "", "error"),  # a configuration turns it on
    ("loss_config = dict(weight=1.0)\n", "Set `gp_old_amp: true` for Apex.\n", "error"),  # a document does
])
def test_a_keyword_handed_a_configuration_lookup_every_configuration_leaves_off(cli, tmp_path, half_config, doc, severity):
    _configured_project(tmp_path, half_config, doc)
    assert _apex_severity(cli, tmp_path) == severity


def test_off_lookups_reads_attributes_set_from_a_lookup_with_an_off_default():
    assert off_lookups(CRITIC.encode()) == (("gp_old_amp", "gp_old_amp"),)
    assert off_lookups(b"class A:\n    def f(self, cfg):\n        self.fast = cfg.get('fast', True)\n") == ()
    assert off_lookups(b"fast = cfg.get('fast', False)\n") == ()  # no attribute of `self`


def test_a_lookup_with_an_on_default_turns_its_key_on():
    candidates = {"penalty.py": (("use_old_amp", "use_old_amp"),)}
    code = {"penalty.py": lambda: PENALTY.encode(), "model.py": lambda: CRITIC.encode()}
    lookups = {"model.py": (("gp_old_amp", "gp_old_amp"),)}
    assert kept_off(candidates, code, {}, lookups)["penalty.py"] == frozenset({"use_old_amp"})
    elsewhere = {**code, "eval.py": lambda: b"amp = config.get('gp_old_amp', True)\n"}
    assert kept_off(candidates, elsewhere, {}, lookups) == {}


def test_a_lookup_of_the_test_suite_makes_no_attribute_of_a_keyword():
    """The test suite's lookups (`self.use_old_amp = cfg.get("use_old_amp", False)` in a test) say nothing
    about the project's attributes: a script that sets an attribute of that name on some object
    (`opts.use_old_amp = True`) gives the keyword no value, with or without them. A lookup of the
    project's own code makes the name an attribute, whose assignments are its values."""
    candidates = {"penalty.py": (("use_old_amp", "use_old_amp"),)}
    code = {"penalty.py": lambda: PENALTY.encode(), "tools/tune.py": lambda: b"opts.use_old_amp = True\n"}
    kept = {"penalty.py": frozenset({"use_old_amp"})}
    assert kept_off(candidates, code, {}) == kept
    assert kept_off(candidates, code, {}, {"tests/test_critic.py": (("use_old_amp", "use_old_amp"),)}) == kept
    assert kept_off(candidates, code, {}, {"critic.py": (("use_old_amp", "use_old_amp"),)}) == {}


YAML_UTILS = '''
import yaml


class AttrDict(dict):
    def __getattr__(self, key):
        value = self[key]
        return AttrDict(value) if isinstance(value, dict) else value


def read_yaml_config(name):
    with open(f"configs/{name}.yaml") as handle:
        return AttrDict(yaml.safe_load(handle))
'''
YAML_TRAIN = '''
import argparse

import torch

from utils import read_yaml_config


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="small")
    args = parser.parse_args()
    cfg = read_yaml_config(args.config)
    net = torch.nn.Conv2d(3, 8, 3)
    if cfg.optim.warm_start is not None:
        net.load_state_dict(torch.load(cfg.optim.warm_start, map_location="cuda"))
    batch = torch.rand(2, 3, 16, 16)
    if cfg.data.mix_synthetic:
        batch = torch.cat([batch, torch.rand(2, 3, 16, 16).cuda()])
    print(net(batch).mean())


if __name__ == "__main__":
    main()
'''
WARM_START_LINE, SYNTHETIC_LINE = 16, 19
SMALL = "data:\n  mix_synthetic: False  # turn on to add rendered images\noptim:\n  warm_start: null\n  lr: 0.01\n"
LARGE = "data:\n  mix_synthetic: true\noptim:\n  warm_start: runs/small/last.pt\n"


def _yaml_project(root, readme: str, small: str = SMALL, default: str = "small") -> None:
    write(root / "README.md", "# Segmenter\n\n" + readme)
    write(root / "utils.py", YAML_UTILS)
    write(root / "train.py", YAML_TRAIN.replace('default="small"', f'default="{default}"'))
    write(root / "configs" / "small.yaml", small)
    write(root / "configs" / "large.yaml", LARGE)


def _yaml_severities(cli, root) -> tuple[str, str]:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    severity = {f["line"]: f["severity"] for f in report["findings"] if f["path"] == "train.py"}
    return severity[WARM_START_LINE], severity[SYNTHETIC_LINE]


@pytest.mark.parametrize(("readme", "small", "severities"), [
    # the documented command and the default name small.yaml, which leaves both keys off
    ("`python train.py --config small`\n", SMALL, ("warning", "warning")),
    ("`python train.py`\n", SMALL, ("warning", "warning")),  # the parser's default alone
    ("`python train.py --config large`\n", SMALL, ("error", "error")),  # a named file turns both on
    ("`python train.py`\n", SMALL.replace("False", "true"), ("warning", "error")),
    ("`python train.py`\n", SMALL.replace("null", "False"), ("error", "warning")),  # False is not None
    ("`python train.py --config tiny`\n", SMALL, ("error", "error")),  # no such file: every one counts
])
def test_a_branch_under_a_yaml_key_every_named_file_leaves_off_is_another_path(cli, tmp_path, readme, small, severities):
    _yaml_project(tmp_path, readme, small)
    assert _yaml_severities(cli, tmp_path) == severities


@pytest.mark.parametrize(("warm_start", "synthetic"), [
    ('cfg["optim"]["warm_start"] is not None', 'cfg["data"]["mix_synthetic"]'),
    ('cfg["optim"].get("warm_start") is not None', 'cfg["data"].get("mix_synthetic")'),
])
def test_a_yaml_key_tested_by_its_subscript_is_read_as_its_attribute_is(cli, tmp_path, warm_start, synthetic):
    _yaml_project(tmp_path, "`python train.py --config small`\n")
    train = YAML_TRAIN.replace("cfg.optim.warm_start is not None", warm_start).replace("cfg.data.mix_synthetic", synthetic)
    write(tmp_path / "train.py", train.replace("return AttrDict(", "return dict("))
    assert _yaml_severities(cli, tmp_path) == ("warning", "warning")
    write(tmp_path / "configs" / "small.yaml", LARGE)  # the named file turns both on
    assert _yaml_severities(cli, tmp_path) == ("error", "error")


@pytest.mark.parametrize(("readme", "severities"), [
    ("`python train.py --config small`\n", ("warning", "warning")),  # every documented run names small.yaml
    ("`python train.py --config small`, or `python train.py` for the large model\n", ("error", "error")),
])
def test_the_default_counts_only_where_a_documented_run_leaves_the_option_out(cli, tmp_path, readme, severities):
    _yaml_project(tmp_path, readme, default="large")
    assert _yaml_severities(cli, tmp_path) == severities


def test_a_value_the_code_gives_the_key_keeps_its_test_against_none():
    data = YAML_TRAIN.replace("    batch = torch.rand", "    cfg.optim.warm_start = latest()\n    batch = torch.rand")
    assert given_in_code(frozenset({"warm_start"}), {"train.py": data.encode}) == frozenset({"warm_start"})
    assert given_in_code(frozenset({"warm_start"}), {"train.py": YAML_TRAIN.encode}) == frozenset()


def test_yaml_tests_reads_the_option_that_names_the_file_and_its_default():
    found = yaml_tests(YAML_TRAIN.encode())
    assert found is not None
    assert (found.against_none, found.option, found.default) == (frozenset({"warm_start"}), "config", "small")
    joined = b'import yaml\ncfg = yaml.safe_load(open("conf/" + opts.preset + ".yml"))\n'
    assert yaml_tests(joined) == (frozenset(), "preset", None)
    assert yaml_tests(b"import json\ncfg = json.load(open(path))\nif cfg.resume is not None:\n    pass\n") is None


@pytest.mark.parametrize(("text", "against_none", "off"), [
    (b"mix_synthetic: false\n", False, True),
    (b"mix_synthetic: ~  # unset\n", True, True),
    (b"mix_synthetic:\nlr: 1\n", True, True),  # no value: null
    (b"mix_synthetic:\n  ratio: 0.5\n", False, False),  # a block below the key
    (b"mix_synthetic: False\n", True, False),  # False is no None
    (b"mix_synthetic: 'no'\n", False, False),
    (b"# mix_synthetic: false\nlr: 1\n", False, False),  # only a comment names it: not named
])
def test_off_in_yaml_reads_each_key_a_file_names(text, against_none, off):
    keys = {"mix_synthetic": against_none}
    assert off_in_yaml(keys, {"a.yaml": lambda: text}) == (frozenset({"mix_synthetic"}) if off else frozenset())


BUILDER = '''
from torch import nn


def wrap(net, distributed, rank):
    if distributed:
        return nn.parallel.DistributedDataParallel(net, device_ids=[rank])
    return net


class Builder:
    def build(self, net, distributed=False, rank=0):
        self.distributed = distributed
        return wrap(net, distributed, rank)

    def sync(self, net):
        if self.distributed and net.training:
            net.cuda()
        return net
'''
RUN = "from det.builder import Builder\n\nnet = Builder().build(make_net())\nprint(Builder().sync(net))\n"


@pytest.mark.parametrize(("install", "severities"), [
    ({}, {}),  # a project of scripts: no caller outside it passes the keyword, so its arm runs nowhere
    ({"pyproject.toml": "[project]\nname = 'det'\n"}, {7: "warning", 18: "warning"}),  # a library's users may
    ({"setup.py": "from setuptools import setup\nsetup(name='det')\n"}, {7: "warning", 18: "warning"}),
])
def test_a_keyword_nothing_turns_on_guards_nothing_in_a_project_that_installs_nothing(tmp_path, cli, install, severities):
    write(tmp_path / "README.md", "# Det\n\n    python run.py\n")
    write(tmp_path / "det" / "__init__.py", "")
    write(tmp_path / "det" / "builder.py", BUILDER)
    write(tmp_path / "run.py", RUN)
    for name, text in install.items():
        write(tmp_path / name, text)
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    assert {f["line"]: f["severity"] for f in report["findings"] if f["path"] == "det/builder.py"} == severities
