"""A module-level backend setting that no code of the project reads is given to no process group."""

from __future__ import annotations

import json

import pytest

from cudaudit.model import Severity
from cudaudit.rules.python.unread_settings import backend_settings, device_keys, unread_settings
from support import analyze

RUNTIME = '''seed = 0
launch_params = dict(backend='nccl')
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))
log_level = 'INFO'
'''
TRAIN = '''import argparse

from mmengine.config import Config
from mmengine.runner import Runner

parser = argparse.ArgumentParser()
parser.add_argument("config")
parser.add_argument("--launcher", default="none")
args = parser.parse_args()
cfg = Config.fromfile(args.config)
cfg.launcher = args.launcher
Runner.from_cfg(cfg).train()
'''


def cpu_severities(files: dict[str, str]) -> dict[int, Severity]:
    found = analyze(RUNTIME, path="configs/_base_/runtime.py", files={"README.md": "# Pose\n", **files})
    return {f.span.line: f.targets["cpu"].severity for f in found if f.rule == "CDA106"}


def test_backend_settings_are_top_level_dicts_that_spell_the_backend():
    assert backend_settings(RUNTIME.encode()) == ("env_cfg", "env_cfg.dist_cfg", "launch_params")
    assert backend_settings(b"def f():\n    params = dict(backend='nccl')\n") == ()  # a function's local
    assert backend_settings(b"params = dict(backend='gloo')\nnote = 'nccl'\n") == ()


def test_a_setting_no_code_reads_is_data_and_a_key_a_library_reads_keeps_its_verdict():
    # `launch_params` is read by nothing; `env_cfg` by the runner, whatever the project spells
    assert cpu_severities({"tools/train.py": TRAIN}) == {2: Severity.NOTE, 3: Severity.WARNING}


@pytest.mark.parametrize("reader", [
    "init_dist(args.launcher, **cfg.launch_params)\n",
    "if 'launch_params' in opt:\n    start(**opt['launch_params'])\n",
])
def test_a_setting_the_project_reads_keeps_its_verdict(reader):
    assert cpu_severities({"tools/train.py": TRAIN + reader}) == {2: Severity.WARNING, 3: Severity.WARNING}


def test_another_configuration_that_sets_the_name_reads_nothing():
    other = "_base_ = ['./_base_/runtime.py']\nlaunch_params = dict(backend='gloo')\n"
    assert cpu_severities({"tools/train.py": TRAIN, "configs/small.py": other}) == {2: Severity.NOTE, 3: Severity.WARNING}


def test_unread_settings_keeps_the_names_nothing_spells_but_a_binding():
    candidates = {"a.py": ("env_cfg", "launch_params")}
    code = {"a.py": lambda: RUNTIME.encode(), "b.py": lambda: b"launch_params = {'backend': 'gloo'}\n"}
    assert unread_settings(candidates, code, frozenset({"env_cfg"})) == {"a.py": ("launch_params",)}
    read = {**code, "c.py": lambda: b"x = cfg.launch_params\n"}
    assert unread_settings(candidates, read, frozenset({"env_cfg"})) == {}


CONFIG = '''log_dir: "runs/small"
device: "cuda"
model:
  width: 64
'''
LOADER = '''import yaml


def main(path="configs/small.yml"):
    config = yaml.safe_load(open(path))
    model = build(config["model"], config.get("log_dir"))
    with open("saved.yml", "w") as out:
        yaml.dump(config, out)
    device = "cuda" if available() else "cpu"
    return model.to(device)
'''
NOTEBOOK = json.dumps({"cells": [
    {"cell_type": "markdown", "source": ["Load the config\n"]},
    {"cell_type": "code", "source": ["config = yaml.safe_load(open(\"configs/small.yml\"))\n", "net = build(config['model'])"]},
]})
NOTEBOOK_HANDING_ON = NOTEBOOK.replace("build(config['model'])", "build(config)")


def yaml_severities(files: dict[str, str]) -> list[Severity]:
    found = analyze(CONFIG, path="configs/small.yml", files={"README.md": "# Small\n", **files})
    return [f.targets["cpu"].severity for f in found if f.rule == "CDA103"]


def test_a_top_level_device_key_no_code_reads_is_data():
    assert yaml_severities({"train.py": LOADER}) == []
    assert yaml_severities({"train.py": LOADER, "demo.ipynb": NOTEBOOK}) == []
    assert yaml_severities({"train.py": LOADER, "demo.ipynb": NOTEBOOK_HANDING_ON}) == [Severity.ERROR]


@pytest.mark.parametrize("reader", [
    "    model.to(config['device'])\n",  # the key spelled
    "    net = Net(**config)\n",  # the mapping handed on whole: a `device` parameter may take it
    "    run(config)\n",
    "    for key, value in config.items():\n        setattr(args, key, value)\n",
])
def test_a_device_key_the_code_may_read_keeps_its_verdict(reader):
    assert yaml_severities({"train.py": LOADER.replace("    return model.to(device)\n", reader)}) == [Severity.ERROR]


@pytest.mark.parametrize("loader", [
    "from omegaconf import OmegaConf\n\ndef main(path):\n    cfg = OmegaConf.load(path)\n    return Net().to(cfg.device)\n",
    "import yaml\n\nCONFIG = yaml.safe_load(open('configs/small.yml'))\n",  # a module's name: others import it
    "import yaml\n\ndef load(path):\n    return yaml.safe_load(open(path))\n",
    "import hydra\n\n@hydra.main(config_path='configs')\ndef main(cfg):\n    return Net().to(cfg.device)\n",
    "import torch\n\nNet().to('cuda')\n",  # no YAML load of the project's own: another program reads it
])
def test_a_device_key_read_by_a_route_not_followed_keeps_its_verdict(loader):
    assert yaml_severities({"train.py": loader}) == [Severity.ERROR]


def test_device_keys_are_top_level_keys_named_for_a_device_set_to_cuda():
    text = b'device: cuda\ntrain_device: "cuda:1"\nmodel:\n  device: cuda\nbackend: cuda\nother_device: cpu\n'
    assert device_keys(text) == ("device", "train_device")


DETECTOR = '''model = dict(type="FasterRCNN")
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='nccl'))
'''
DEMO = '''import argparse

from mmdet.apis import init_detector

parser = argparse.ArgumentParser()
parser.add_argument("det_config")
args = parser.parse_args()
detector = init_detector(args.det_config, device="cpu")
'''
DEMO_README = "# Pose\n\n```\npython demo/run_demo.py demo/det_cfg/detector.py det.pth\n```\n"


def detector_severities(files: dict[str, str]) -> dict[int, Severity]:
    found = analyze(DETECTOR, path="demo/det_cfg/detector.py", files={"tools/train.py": TRAIN, **files})
    return {f.span.line: f.targets["cpu"].severity for f in found if f.rule == "CDA106"}


def test_a_library_read_setting_of_a_configuration_only_inference_loads_is_data():
    assert detector_severities({"README.md": DEMO_README, "demo/run_demo.py": DEMO}) == {2: Severity.NOTE}
    guide = {"README.md": "# Pose\n", "docs/demos.md": DEMO_README, "demo/run_demo.py": DEMO}  # written from the root
    assert detector_severities(guide) == {2: Severity.NOTE}
    table = "MODELS = {'person': 'demo/det_cfg/detector.py'}\n"  # a table of models for an inferencer
    assert detector_severities({"README.md": "# Pose\n", "pose/models.py": table}) == {2: Severity.NOTE}


@pytest.mark.parametrize("files", [
    {"README.md": DEMO_README.replace("demo/run_demo.py", "tools/train.py")},  # the runner script is given it
    {"README.md": DEMO_README.replace("python demo/run_demo.py", "bash tools/dist.sh")},  # a script not read
    {"README.md": "# Pose\n", "configs/det_large.py": "_base_ = ['../demo/det_cfg/detector.py']\n"},  # inherited
    {"README.md": "# Pose\n"},  # named nowhere: its route is not known
    {"README.md": "# Pose\n", "tune.ipynb": json.dumps({"cells": [{"cell_type": "code", "source": [
        "cfg = Config.fromfile('demo/det_cfg/detector.py')\n", "Runner.from_cfg(cfg).train()\n"]}]})},
])
def test_a_configuration_a_route_gives_the_library_keeps_its_verdict(files):
    assert detector_severities(files) == {2: Severity.WARNING}


@pytest.mark.parametrize(("files", "severities"), [
    # the configuration inheriting the runtime is loaded by inference code alone
    ({"pose/infer.py": "from mmpose.apis import init_model\nmodel = init_model('configs/pose_small.py', 'w.pth')\n"},
     {2: Severity.NOTE, 3: Severity.NOTE}),
    # a documented command trains it with the runner: the runtime's library-read setting is read
    ({"README.md": "# Pose\n\n    python tools/train.py configs/pose_small.py\n"}, {2: Severity.NOTE, 3: Severity.WARNING}),
])
def test_an_inherited_runtime_takes_the_routes_of_the_configurations_inheriting_it(files, severities):
    inheriting = {"configs/pose_small.py": "_base_ = ['_base_/runtime.py']\nmodel = dict(type='TopDown')\n"}
    assert cpu_severities({"tools/train.py": TRAIN, **inheriting, **files}) == severities


VOCODER = '''VOCODER = {
    "upsample_rates": [5, 4, 2],
    "num_mels": 64,
    "dist_config": {"dist_backend": "nccl", "world_size": 1},
}
'''


@pytest.mark.parametrize(("reader", "severity"), [
    ("net = Vocoder(AttrDict(VOCODER).num_mels)\n", Severity.NOTE),  # the dict is read, the key holding the backend is not
    ("h = AttrDict(VOCODER)\ninit_process_group(h.dist_config['dist_backend'])\n", Severity.WARNING),
    ("start(**VOCODER['dist_config'])\n", Severity.WARNING),
])
def test_a_nested_backend_key_no_code_reads_is_data(reader, severity):
    found = analyze(VOCODER, path="vocoder/config.py", files={"README.md": "# Voc\n", "vocoder/model.py": reader})
    assert [f.targets["cpu"].severity for f in found if f.rule == "CDA106"] == [severity]
    assert "VOCODER.dist_config" in backend_settings(VOCODER.encode())
