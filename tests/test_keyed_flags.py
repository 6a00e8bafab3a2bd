"""A test of a key (a dictionary entry, an attribute) that the project stores a device test in is the
test of that value, whatever the key's words say (`rules/python/keyed_flags.py`, through the
project index and `guards.keyed_flag`); a name counted with in arithmetic is no device test."""

from __future__ import annotations

import ast

import pytest

from cudaudit.rules.python.guards import Polarity, Probe
from cudaudit.rules.python.keyed_flags import read_keyed_flags
from cudaudit.rules.python.names import ImportTable
from support import scan_json, write

LAUNCH = '''
import json

import torch
import torch.multiprocessing as mp

from core.trainer import Trainer


def worker(rank, config):
    if config['distributed']:
        torch.cuda.set_device(rank)
        torch.distributed.init_process_group(backend='nccl', world_size=config['world_size'], rank=rank)
    Trainer(config).train()


if __name__ == "__main__":
    config = json.load(open('config.json'))
    config['world_size'] = torch.cuda.device_count()
    config['distributed'] = True if config['world_size'] > 1 else False
    mp.spawn(worker, nprocs=max(1, config['world_size']), args=(config,))
'''
TRAINER = '''
import torch
from torch.nn.parallel import DistributedDataParallel


class Trainer:
    def __init__(self, config):
        self.config = config
        self.model = torch.nn.Linear(2, 2)
        if config['distributed']:
            self.model = DistributedDataParallel(self.model, device_ids=[0])

    def train(self):
        if self.config['distributed']:
            torch.cuda.synchronize()
'''


def _severities(cli, root, launch: str = LAUNCH, **more: str) -> dict[tuple[str, int], str]:
    write(root / "README.md", "# Fit\n\n```bash\npython train.py\n```\n")
    write(root / "train.py", launch)
    write(root / "core" / "__init__.py", "")
    write(root / "core" / "trainer.py", TRAINER)
    for path, text in more.items():
        write(root / path, text)
    report = scan_json(cli, ".", "--no-cache", "--show-portable", cwd=root)
    return {(f["path"], f["line"]): f["targets"]["cpu"]["severity"] for f in report["findings"]}


def test_an_entry_that_holds_several_gpus_guards_its_arm_in_every_module(cli, tmp_path):
    found = _severities(cli, tmp_path)
    assert found[("train.py", 12)] == "note"  # set_device
    assert found[("train.py", 13)] == "note"  # 'nccl'
    assert found[("core/trainer.py", 11)] == "note"  # device_ids
    assert found[("core/trainer.py", 15)] == "note"  # synchronize


def test_an_entry_the_project_also_stores_anything_else_in_holds_no_test(cli, tmp_path):
    found = _severities(cli, tmp_path, **{"tools/debug.py": "def run(config):\n    config['distributed'] = True\n"})
    assert found[("train.py", 12)] == "error"
    assert found[("core/trainer.py", 15)] == "error"


FLAGS = '''
import os

import torch


def fit(flags):
    if flags.multi_gpu:
        torch.cuda.set_device(flags.local_rank)


def main():
    flags = type("Flags", (), {})()
    flags.local_rank = int(os.environ.get("LOCAL_RANK", 0))
    flags.multi_gpu = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    fit(flags)


if __name__ == "__main__":
    main()
'''


def test_a_gpu_word_that_holds_a_launch_test_is_another_path(cli, tmp_path):
    write(tmp_path / "README.md", "# Fit\n\n```bash\npython fit.py\n```\n")
    write(tmp_path / "fit.py", FLAGS)
    report = scan_json(cli, ".", "--no-cache", "--show-portable", cwd=tmp_path)
    assert [(f["line"], f["severity"]) for f in report["findings"]] == [(9, "warning")]


def test_a_per_gpu_batch_size_in_an_assertion_opens_no_region(cli, tmp_path):
    write(tmp_path / "loop.py", (
        "import torch\n\n\ndef loop(batch_size=64, batch_gpu=8):\n    rounds = batch_size // batch_gpu\n"
        "    assert batch_size == batch_gpu * rounds\n    torch.cuda.reset_peak_memory_stats()\n\n\n"
        "if __name__ == '__main__':\n    loop()\n"
    ))
    report = scan_json(cli, "loop.py", "--no-cache", cwd=tmp_path)
    assert [(f["line"], f["severity"]) for f in report["findings"]] == [(7, "error")]


@pytest.mark.parametrize(("source", "expected"), [
    ("c['n'] = torch.cuda.device_count()\nc['multi'] = True if c['n'] > 1 else False\n",
     [("['multi']", ((Probe.CUDA, Polarity.POSITIVE),))]),
    ("args.single = False if torch.cuda.device_count() > 1 else True\n",
     [(".single", ((Probe.CUDA, Polarity.NEGATIVE),))]),
    ("c['multi'] = torch.cuda.device_count() > 1\nc['multi'] = False\n", []),  # stored with anything else
    ("c['n'] = torch.cuda.device_count()\n", []),  # a number, not a test
    ("c['fast'] = options.get('fast', False)\n", []),  # a setting, which `opt_in` reads
])
def test_read_keyed_flags(source, expected):
    tree = ast.parse("import torch\n" + source)
    assert read_keyed_flags(tree, ImportTable(tree)) == expected
