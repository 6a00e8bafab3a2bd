"""Model-parallel arms where every shipped configuration runs on one rank: another path
(`rules/python/parallel_sizes.py`, through the project index, read by `names.picks_another`)."""

from __future__ import annotations

import pytest

from cudaudit.rules.catalog import load_catalog
from cudaudit.rules.python.parallel_sizes import ParallelNames, one_rank
from support import scan_json, write

TRAIN = '''
import argparse

import torch
from framework import mpu


def share_batch(batch, shape):
    if mpu.get_model_parallel_rank() != 0:
        batch["frames"] = torch.zeros(shape, device="cuda")
    rank = mpu.get_model_parallel_rank()
    if rank == 0:
        batch["ids"] = batch["ids"].cuda()
    else:
        batch["mask"] = torch.ones(shape, device="cuda")
    width = mpu.get_model_parallel_world_size()
    if width > 1:
        torch.cuda.synchronize()
    return batch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", nargs="*")
    parser.add_argument("--model-parallel-size", type=int, default=MP_DEFAULT)
    args = parser.parse_args()
    if args.model_parallel_size > 1:
        torch.cuda.synchronize()
    print(share_batch({"ids": torch.zeros(2)}, (2, 3)))


if __name__ == "__main__":
    main()
'''
LINES = {"rank_not_0": 10, "rank_0": 13, "rank_else": 15, "width": 18, "option": 28}


def _project(root, default: int = 1, config: str = "model_parallel_size: 1\n", readme: str = "") -> None:
    write(root / "train.py", TRAIN.replace("MP_DEFAULT", str(default)))
    write(root / "configs" / "small.yaml", "args:\n  batch_size: 4\n  " + config)
    write(root / "configs" / "large.yaml", "args:\n  batch_size: 16\n  model_parallel_size: 1\n")
    write(root / "README.md", "# Train\n\n`python train.py --base configs/small.yaml`\n" + readme)


def _severities(cli, root) -> dict[str, str]:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    lines = {line: name for name, line in LINES.items()}
    return {lines[f["line"]]: f["targets"]["cpu"]["severity"] for f in report["findings"] if f["path"] == "train.py"}


def test_model_parallel_arms_are_another_path_where_every_configuration_runs_one_rank(cli, tmp_path):
    _project(tmp_path)
    assert _severities(cli, tmp_path) == {
        "rank_not_0": "warning",  # only a model-parallel launch has a rank other than 0
        "rank_0": "error",  # rank 0 is every one-rank run: the normal path
        "rank_else": "warning",
        "width": "warning",
        "option": "warning",
    }


@pytest.mark.parametrize("change", [
    {"config": "model_parallel_size: 2\n"},  # a shipped configuration splits the model
    {"default": 2},  # so does the command line's default
    {"readme": "\nOn two GPUs: `torchrun train.py --model-parallel-size 2`\n"},  # a documented command
    {"readme": "\n`torchrun train.py --model-parallel-size $GPUS`\n"},  # a size the reading cannot follow
])
def test_a_size_above_one_anywhere_keeps_the_arms_on_the_normal_path(cli, tmp_path, change):
    _project(tmp_path, **change)
    found = _severities(cli, tmp_path)
    assert {found["rank_not_0"], found["rank_else"], found["width"]} == {"error"}


def test_a_project_that_never_sets_a_size_keeps_its_arms(cli, tmp_path):
    write(tmp_path / "train.py", TRAIN.replace("MP_DEFAULT", "None"))
    write(tmp_path / "README.md", "# Train\n\n`python train.py`\n")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    assert {f["severity"] for f in report["findings"]} == {"error"}  # nothing says the project runs one rank


def _one_rank(files: dict[str, str]):
    names = ParallelNames.from_tables(load_catalog().tables("model_parallel"))
    return one_rank(names, {path: (lambda text=text: text.encode()) for path, text in files.items()}, {})


@pytest.mark.parametrize(("files", "single"), [
    ({"run.sh": "python train.py --tensor-model-parallel-size 1\n"}, True),
    ({"cfg.yaml": "context_parallel_size: 0\n"}, True),  # 0 turns the parallelism off
    ({"cfg.yaml": "tp_size: 1\n", "infer.py": "engine = Engine(tp_size=n_gpus)\n"}, False),
    ({"cfg.yaml": "tp_size: 1\n", "infer.py": "engine = Engine(tp_size=self.tp_size)\n"}, True),  # handed on
    ({"cfg.yaml": "tp_size: 1\n", "model.py": "def build(tp_size: int = 1, pp_size=None):\n"}, True),
    ({"cfg.yaml": "tp_size: 1\n", "model.py": "def build(tp_size: int, pp_size: int = 4):\n"}, False),
    ({"cfg.yaml": "tp_size: 1\n", "check.py": "if cfg.tp_size == 2:\n    pass\n"}, True),  # a test sets nothing
    ({"guide.md": "Raise model_parallel_size when the model does not fit.\n"}, False),  # prose: no value
    ({"cfg.yaml": "tp_size: 1\n", "bench.py": "for tp_size in (1, 2, 4):\n    run(tp_size)\n"}, False),
    ({"cfg.json.yaml": '{"tp_size": 4}\n', "cfg.yaml": "tp_size: 1\n"}, False),
])
def test_one_rank_reads_every_value_given_to_a_size(files, single):
    assert (_one_rank(files) is not None) is single


def test_a_size_kept_from_its_query_is_still_one_rank(cli, tmp_path):
    write(tmp_path / "layers.py", '''
import torch
from framework import parallel_state


class Column(torch.nn.Module):
    def forward(self, x):
        tp_size = parallel_state.get_tensor_model_parallel_world_size()
        if tp_size > 1:
            x = x.cuda()
        return x
''')
    write(tmp_path / "configs" / "base.yaml", "tensor_model_parallel_size: 1\n")
    write(tmp_path / "README.md", "# Layers\n")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    assert [f["targets"]["cpu"]["severity"] for f in report["findings"]] == ["warning"]
