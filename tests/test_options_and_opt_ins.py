"""Options and opt-ins: an `opt` object's switch no documented command turns on, an option whose help
documents the value that selects the CPU, and an import of a library that fails only at its first call
read by a function only guarded code calls (`opt_in._SETTINGS_RECEIVER`, `names._documents_cpu`,
`project_index._documented_on`, `walker._imports_read_by_helpers`)."""

from __future__ import annotations

import ast

import pytest

from cudaudit.rules.python.names import ImportTable
from support import scan_json, write

BASE_OPTIONS = '''
import argparse

import torch


class BaseOptions:
    def __init__(self):
        self.parser = argparse.ArgumentParser()

    def parse(self):
        self.parser.add_argument("--gpu_ids", type=str, default="0", help="gpu ids: e.g. 0  0,2. {help}")
        self.parser.add_argument("--fp16", action="store_true", default=False, help="train with AMP")
        self.opt = self.parser.parse_args()
        self.opt.gpu_ids = self.parse_ids(self.opt.gpu_ids)
        if len(self.opt.gpu_ids) > 0:
            torch.cuda.set_device(self.opt.gpu_ids[0])
        return self.opt

    def parse_ids(self, ids):
        return [int(i) for i in ids.split(",") if int(i) >= 0]
'''
SET_DEVICE_LINE = 17
MODELS = '''
def create_model(opt, net):
    if opt.fp16:
        from apex import amp
        net = amp.initialize(net)
    return net
'''
TRAIN = '''
import torch

from models import create_model
from options import BaseOptions

opt = BaseOptions().parse()
net = create_model(opt, torch.nn.Linear(2, 2))
if opt.fp16:
    from apex import amp
    print(amp)
'''


def _vid(root, command: str, help_text: str = "use -1 for CPU") -> dict[tuple[str, int], str]:
    write(root / "options.py", BASE_OPTIONS.replace("{help}", help_text))
    write(root / "models.py", MODELS)
    write(root / "train.py", TRAIN)
    write(root / "README.md", f"# Video\n\n```\n{command}\n```\n")
    return root


def _severities(cli, root) -> dict[tuple[str, int], str]:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return {(f["path"], f["line"]): f["severity"] for f in report["findings"]}


@pytest.mark.parametrize(("command", "severity"), [
    ("python train.py --name demo", "warning"),  # `--fp16` defaults off and no documented command passes it
    ("python train.py --name demo --fp16", "error"),  # the documented training turns it on
])
def test_an_opt_switch_is_another_path_unless_a_documented_command_turns_it_on(cli, tmp_path, command, severity):
    found = _severities(cli, _vid(tmp_path, command))
    # the script's own test, and the one of the module it hands `opt` to, which no command runs itself
    assert found[("train.py", 10)] == severity
    assert found[("models.py", 4)] == severity


@pytest.mark.parametrize(("help_text", "reported"), [
    ("use -1 for CPU", False),  # the documented CPU switch: `--gpu_ids -1` empties the list
    ("", True),  # no value is documented for the CPU: the default `0` reaches `set_device` there
])
def test_a_test_of_an_option_whose_help_documents_the_cpu_value_guards_the_gpu_branch(cli, tmp_path, help_text, reported):
    found = _severities(cli, _vid(tmp_path, "python train.py --name demo", help_text))
    assert (("options.py", SET_DEVICE_LINE) in found) is reported


@pytest.mark.parametrize(("help_text", "always_set"), [
    ("use -1 for CPU", frozenset()),
    ("'cpu' runs without a GPU", frozenset()),
    ("ids of the GPUs to use", frozenset({"gpu_ids"})),
    ("number of cpu_threads", frozenset({"gpu_ids"})),  # a longer word names no CPU value
])
def test_an_option_whose_help_names_the_cpu_is_not_always_set(help_text, always_set):
    code = f'parser.add_argument("--gpu_ids", default="0", help="{help_text}")\n'
    assert ImportTable(ast.parse(code)).always_set == always_set


KMEANS = '''
import pynvml
import torch


def free_memory(index):
    pynvml.nvmlInit()
    return pynvml.nvmlDeviceGetMemoryInfo(pynvml.nvmlDeviceGetHandleByIndex(index)).free


def fit(x, batch):
    return torch.as_tensor(x).argmax(dim=1)
'''
CLUSTER = '''
import argparse

from kmeans import fit, free_memory


def train(features, use_gpu=False):
    {train}
    return [0 for _ in features]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpu", action="store_true", help="cluster on the GPU")
    print(train([[0.0, 1.0]], use_gpu=parser.parse_args().gpu))
'''


@pytest.mark.parametrize(("train", "cpu"), [
    # only the `--gpu` branch asks NVML: the import alone works on a CPU host
    ("if use_gpu:\n        return fit(features, free_memory(0))", None),
    # every run asks it: `nvmlInit()` raises without NVIDIA's driver
    ("print(fit(features, free_memory(0)))", "error"),
])
def test_an_import_that_fails_only_at_its_call_is_judged_where_its_readers_run(cli, tmp_path, train, cpu):
    write(tmp_path / "kmeans.py", KMEANS)
    write(tmp_path / "cluster.py", CLUSTER.replace("{train}", train))
    write(tmp_path / "README.md", "# Cluster\n\n```\npython cluster.py\n```\n")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    imports = [f for f in report["findings"] if f["path"] == "kmeans.py" and f["line"] == 2]
    assert [f["targets"]["cpu"]["severity"] for f in imports if f["targets"]["cpu"]["severity"] != "note"] == (
        [cpu] if cpu else []
    )
