"""A package whose members the project looks up by a name its configurations give: a member no
configuration, script or document names runs only for a user's own configuration, another path
(`rules/python/dispatched.py`)."""

from __future__ import annotations

import pytest

from support import scan_json, write

HEADS = (
    "import torch\nfrom torch import nn\n\n\n"
    "class PlainHead(nn.Module):\n    def forward(self, x):\n        return x.mean()\n\n\n"
    "class SyncedHead(nn.Module):\n    def forward(self, x):\n        torch.cuda.synchronize()\n        return x.sum()\n"
)
BUILD = (
    "import yaml\nfrom {package} import heads\n\n\n"
    "def build(path):\n    with open(path) as f:\n        cfg = yaml.safe_load(f)\n    return {lookup}\n"
)


@pytest.mark.parametrize(
    ("lookup", "config", "severity"),
    [
        ('getattr(heads, cfg["head"])()', "head: PlainHead\n", "warning"),  # no configuration names it
        ('getattr(heads, cfg["head"])()', "head: SyncedHead\n", "error"),  # a configuration names it
        ('getattr(heads, "SyncedHead")()', "head: PlainHead\n", "error"),  # a literal names it
        ('heads.PlainHead()', "head: PlainHead\n", "error"),  # no lookup: the package's face is its API
        ('[getattr(heads, n) for n in dir(heads)][0]()', "head: PlainHead\n", "error"),  # every member looked up
    ],
)
def test_a_member_no_configuration_names_is_another_path(cli, tmp_path, lookup, config, severity):
    write(tmp_path / "pyproject.toml", '[project]\nname = "kit"\nversion = "0.1"\n')
    write(tmp_path / "kit/__init__.py", "")
    write(tmp_path / "kit/heads/__init__.py", "from .heads import PlainHead, SyncedHead\n\n__all__ = ['PlainHead', 'SyncedHead']\n")
    write(tmp_path / "kit/heads/heads.py", HEADS)
    write(tmp_path / "kit/build.py", BUILD.format(package="kit", lookup=lookup))
    write(tmp_path / "configs/base.yaml", config)
    write(tmp_path / "README.md", "```python\nfrom kit.build import build\nmodel = build('configs/base.yaml')\n```\n")
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["path"], f["line"], f["targets"]["cpu"]["severity"]) for f in report["findings"] if f["rule"] == "CDA101"] == [
        ("kit/heads/heads.py", 12, severity)
    ]


METRICS = (
    "import torch\n\n\n"
    "def score(x):\n    return _synced(x)\n\n\n"
    "def score_left(x):\n    return score(x[1:])\n\n\n"
    "def _synced(x):\n    torch.cuda.synchronize()\n    return x.sum()\n"
)


def test_a_member_a_configuration_names_runs_what_it_calls_whatever_an_unnamed_one_does(cli, tmp_path):
    write(tmp_path / "pyproject.toml", '[project]\nname = "kit"\nversion = "0.1"\n')
    write(tmp_path / "kit/__init__.py", "")
    write(tmp_path / "kit/metrics/__init__.py", "from .scores import score, score_left\n")
    write(tmp_path / "kit/metrics/scores.py", METRICS)
    write(tmp_path / "kit/evaluate.py", (
        "import importlib\n\nmetrics = importlib.import_module('kit.metrics')\n\n\n"
        "def evaluate(opt, x):\n    return getattr(metrics, opt['type'])(x)\n"
    ))
    write(tmp_path / "configs/test.yml", "val:\n  type: score\n")
    write(tmp_path / "README.md", "```python\nfrom kit.evaluate import evaluate\n```\n")
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["path"], f["line"], f["targets"]["cpu"]["severity"]) for f in report["findings"] if f["rule"] == "CDA101"] == [
        ("kit/metrics/scores.py", 13, "error")
    ]


SHIPPED = (
    "import os\n\nimport yaml\nfrom kit import heads\n\n"
    "CONFIG = os.path.join(os.path.dirname(__file__), 'configs', 'base.yaml')\n\n\n"
    "def build(variant):\n    with open(CONFIG) as f:\n        cfg = yaml.safe_load(f)[variant]\n"
    "    return getattr(heads, cfg['head'])()\n"
)


@pytest.mark.parametrize(
    ("build", "severity"),
    [
        (SHIPPED, "note"),  # only the package's own file reaches the lookup: the member runs nowhere
        (SHIPPED.replace("open(CONFIG)", "open(variant)"), "warning"),  # a user's file may name it
    ],
)
def test_a_member_no_configuration_the_package_ships_names_runs_nowhere_where_only_those_reach_the_lookup(
    cli, tmp_path, build, severity
):
    write(tmp_path / "pyproject.toml", '[project]\nname = "kit"\nversion = "0.1"\n')
    write(tmp_path / "kit/__init__.py", "")
    write(tmp_path / "kit/heads/__init__.py", "from .heads import PlainHead, SyncedHead\n")
    write(tmp_path / "kit/heads/heads.py", HEADS)
    write(tmp_path / "kit/build.py", build)
    write(tmp_path / "kit/configs/base.yaml", "small:\n  head: PlainHead\n")
    write(tmp_path / "README.md", "```python\nfrom kit.build import build\nmodel = build('small')\n```\n")
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["path"], f["line"], f["targets"]["cpu"]["severity"]) for f in report["findings"] if f["rule"] == "CDA101"] == [
        ("kit/heads/heads.py", 12, severity)
    ]
