"""Entry scripts every documented command starts under a launcher of several processes: the launch
branch of their route is the normal path (`rules/python/launched_entries.py`, through the project
index, read by `regions.branch_regions` and the device-index reading)."""

from __future__ import annotations

import pytest

from cudaudit.documented_commands import DocumentedCommands
from cudaudit.rules.python.launched_entries import always_launched, console_scripts
from support import scan_json, write

DIST = '''
import os

import torch
import torch.distributed as dist


def init_distributed():
    if "RANK" not in os.environ:
        print("running as one process")
        return
    local_rank = int(os.environ["LOCAL_RANK"])
    dist.init_process_group(backend="nccl")
    torch.cuda.set_device(local_rank)
'''
LINES = {"rank": 12, "backend": 13, "set_device": 14}

TRAIN = '''
from trainer import dist


def main():
    dist.init_distributed()


if __name__ == "__main__":
    main()
'''

TORCHRUN = "```bash\ntorchrun --nproc_per_node=8 \\\n    trainer/train.py --epochs 3\n```\n"
PROSE = "`train.py` is the training script; launch it with torchrun.\n"
SPAWN = '''
import os
import subprocess
import sys


def main():
    count = int(sys.argv[2])
    for rank in range(count):
        env = dict(os.environ)
        env["WORLD_SIZE"] = str(count)
        env["RANK"] = env["LOCAL_RANK"] = str(rank)
        subprocess.Popen(sys.argv[3:], env=env)


if __name__ == "__main__":
    main()
'''
"""A project's own launcher: one process per rank, each with its rank in its environment."""
RUN_RANKS = "#!/usr/bin/env bash\nCOUNT=$1\nCOMMAND=${@:2}\npython ./scripts/spawn.py --nproc ${COUNT} ${COMMAND}\n"
"""A shell script that hands the project's launcher the command its caller gives."""
EXPERIMENT = "#!/usr/bin/env bash\nset -x\nEXTRA=${@:1}\npython -u trainer/train.py --epochs 3 ${EXTRA}\n"
"""A configuration script, which runs the entry with its caller's arguments."""
SLURM = "#!/usr/bin/env bash\nsrun -p $1 --ntasks=$2 --kill-on-bad-exit=1 \\\n    ${@:3}\n"


def _severities(cli, root) -> dict[str, set[str]]:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    lines = {line: name for name, line in LINES.items()}
    found: dict[str, set[str]] = {}
    for finding in report["findings"]:
        if finding["path"] == "trainer/dist.py" and finding["line"] in lines:
            found.setdefault(lines[finding["line"]], set()).add(finding["targets"]["cpu"]["severity"])
    return found


def _project(root, files: dict[str, str]) -> None:
    write(root / "trainer/__init__.py", "")
    write(root / "trainer/dist.py", DIST)
    write(root / "trainer/train.py", TRAIN)
    for path, text in files.items():
        write(root / path, text)


LAUNCHED = {"rank": {"error"}, "backend": {"error"}, "set_device": {"error"}}
SINGLE = {"rank": {"warning"}, "backend": {"warning"}, "set_device": {"warning"}}


@pytest.mark.parametrize("files", [
    {"README.md": TORCHRUN + PROSE},
    {"README.md": "Train:\n\n    python -m torch.distributed.launch --nproc_per_node 4 trainer/train.py\n"},
    {
        "scripts/train.sh": "#!/bin/bash\nNCCL_DEBUG=INFO deepspeed trainer/train.py --deepspeed ds.json\n",
        "README.md": "Train with `bash scripts/train.sh`.\n",
    },
    {
        "setup.py": 'from setuptools import setup\nsetup(entry_points={"console_scripts": ["trainer-fit=trainer.train:main"]})\n',
        "README.md": "```\ntorchrun --nproc-per-node=8 --no-python trainer-fit --epochs 3\n```\n",
    },
    {  # through the project's own launcher, which a shell script hands the configuration script
        "scripts/spawn.py": SPAWN, "scripts/run_ranks.sh": RUN_RANKS, "experiments/base.sh": EXPERIMENT,
        "experiments/small.sh": EXPERIMENT.replace("--epochs 3", "--epochs 1"),
        "README.md": "```bash\nGPUS=4 ./scripts/run_ranks.sh 4 ./experiments/base.sh --lr 0.1\n```\n",
    },
    {  # a Slurm job of several tasks
        "scripts/slurm.sh": SLURM, "experiments/base.sh": EXPERIMENT,
        "README.md": "```bash\nbash scripts/slurm.sh gpu 16 experiments/base.sh\n```\n",
    },
    # one use launched, another (a switch of its own) run as one process: both arms are normal paths
    {"README.md": TORCHRUN + "Evaluate: `python trainer/train.py --eval --resume best.pth`\n"},
    {"README.md": TORCHRUN, "tools/export.py": "from trainer import dist\n"},  # the helpers run launched here
    {"README.md": TORCHRUN + "Resume: `python trainer/train.py --epochs 3 ...`\n"},  # an excerpt
])
def test_a_route_every_documented_command_launches_has_its_launch_as_the_normal_path(cli, tmp_path, files):
    _project(tmp_path, files)
    assert _severities(cli, tmp_path) == LAUNCHED


@pytest.mark.parametrize("files", [
    {},  # nothing launches it
    {"README.md": TORCHRUN + "On one GPU: `python trainer/train.py --epochs 3`\n"},  # a single-process run too
    {"README.md": TORCHRUN + "On one GPU: `python trainer/train.py --epochs 3 --no-amp`\n"},  # no use of its own
    {"README.md": TORCHRUN, "run_small.sh": "CUDA_VISIBLE_DEVICES=0 python3 trainer/train.py\n"},
    {"README.md": "```\naccelerate launch trainer/train.py\n```\n"},  # one process where there is no GPU
    {  # a "launcher" that starts one process and sets no rank
        "scripts/spawn.py": SPAWN.replace('env["RANK"] = env["LOCAL_RANK"] = str(rank)', "pass"),
        "scripts/run_ranks.sh": RUN_RANKS, "experiments/base.sh": EXPERIMENT,
        "README.md": "```bash\n./scripts/run_ranks.sh 4 ./experiments/base.sh\n```\n",
    },
    {  # a Slurm job of one task, and a configuration script run on its own
        "scripts/slurm.sh": SLURM.replace("--ntasks=$2", "--ntasks=1"), "experiments/base.sh": EXPERIMENT,
        "README.md": "```bash\nbash scripts/slurm.sh gpu 16 experiments/base.sh\n```\n",
    },
    {"experiments/base.sh": EXPERIMENT, "README.md": TORCHRUN + "Or: `bash experiments/base.sh --lr 0.1`\n"},
])
def test_a_route_also_run_as_one_process_keeps_the_launch_another_path(cli, tmp_path, files):
    _project(tmp_path, files)
    assert _severities(cli, tmp_path) == SINGLE


def _launches(entries: list[str], documents: dict[str, str], importers: dict[str, set[str]] | None = None,
              scripts: dict[str, str] | None = None) -> dict[str, bool]:
    """Module -> whether every documented command launches its route (False: those of one use)."""
    readers = {path: (lambda text=text: text.encode()) for path, text in documents.items()}
    commands = DocumentedCommands(readers, scripts or {})
    found = always_launched(entries, scripts or {}, commands, lambda: importers or {}, lambda path: b"")
    return {module: launch.every for module, launch in found.items()}


def _launched(entries: list[str], documents: dict[str, str], importers: dict[str, set[str]] | None = None,
              scripts: dict[str, str] | None = None) -> set[str]:
    return {module for module, every in _launches(entries, documents, importers, scripts).items() if every}


@pytest.mark.parametrize(("documents", "launched"), [
    ({"README.md": "$ torchrun --nproc_per_node 2 tools/train.py cfg.py\n"}, True),
    ({"README.md": "> python -m torch.distributed.run --nproc_per_node=2 -m tools.train\n"}, True),
    ({"README.md": "accelerate launch --multi_gpu tools/train.py\n"}, True),
    ({"README.md": "torchrun tools/train.py\n", "docs/cpu.md": "python tools/train.py --device cpu\n"}, False),
    ({"README.md": "torchrun tools/train.py\n", "demo.ipynb": '"!python tools/train.py\\n",'}, False),
    ({"README.md": "torchrun tools/train.py\n", "docs/faq.md": "tools/train.py reads its config first.\n"}, True),
    ({"README.md": "torchrun other/train.py\n"}, False),  # another file of the same name
    ({"README.md": "python tools/train.py\n"}, False),
    ({"README.md": "accelerate launch --multi_gpu tools/train.py\naccelerate launch tools/train.py\n"}, False),
    ({"README.md": "Run `python tools/train.py`. Several GPUs: `torchrun --nproc_per_node=4 tools/train.py`\n"}, False),
    ({"README.md": "Several GPUs: `torchrun --nproc_per_node=4 tools/train.py`.\n"}, True),
    ({"README.md": "python tools/train.py --gpus=8 --batch 32\n"}, True),  # it starts a process per GPU itself
    ({"README.md": "python tools/train.py --num-gpus 4\npython tools/train.py --lr 0.1 ...\n"}, True),
    ({"README.md": "python tools/train.py --gpus=8\npython tools/train.py --gpus=1\n"}, False),
    ({"README.md": "python tools/train.py --gpus 0,1\n"}, False),  # which GPUs, not how many
])
def test_always_launched_reads_every_command_that_runs_the_script(documents, launched):
    assert bool(_launched(["tools/train.py", "other/run.py"], documents)) is launched


def test_modules_only_launched_routes_import_join_the_route():
    documents = {"README.md": "torchrun tools/train.py\npython tools/eval.py\n"}
    importers = {
        "pkg/dist.py": {"tools/train.py", "pkg/engine.py"},
        "pkg/engine.py": {"tools/train.py"},
        "pkg/data.py": {"tools/train.py", "tools/eval.py"},
    }
    assert _launches(["tools/train.py", "tools/eval.py"], documents, importers) == {
        "tools/train.py": True, "pkg/dist.py": True, "pkg/engine.py": True,
        "pkg/data.py": False,  # the launched route runs it too, and so does the single-process one
    }


@pytest.mark.parametrize(("documents", "launches"), [
    ({"README.md": "torchrun tools/train.py --model m\npython tools/train.py --eval --resume c.pth\n"}, {"tools/train.py": False}),
    ({"README.md": "torchrun tools/train.py --no-amp\npython tools/train.py --no-amp --model m\n"}, {}),
    ({"README.md": "torchrun tools/train.py --eval\npython tools/train.py --eval --resume c.pth\n"}, {}),
])
def test_a_single_process_command_with_a_switch_of_its_own_is_another_use(documents, launches):
    assert _launches(["tools/train.py"], documents) == launches


def test_console_scripts_are_read_from_every_declaration_form():
    setup = b'entry_points={"console_scripts": ["fit-model = pkg.cli.fit:main", "serve=pkg.serve:run"]}'
    pyproject = b'[project.scripts]\nfit-small = "pkg.small:main"\n'
    assert console_scripts([setup, pyproject]) == {
        "fit-model": "pkg.cli.fit", "serve": "pkg.serve", "fit-small": "pkg.small",
    }


@pytest.mark.parametrize(("documents", "launched"), [
    ({"README.md": "torchrun train.py\n"}, set()),  # either script: neither is launched for sure
    ({"a/README.md": "torchrun train.py\n"}, {"a/train.py"}),  # the document's own folder
    ({"a/README.md": "torchrun train.py\n", "README.md": "python train.py\n"}, set()),  # may run a/train.py alone
    ({"README.md": "torchrun a/train.py\npython -m b.train\n"}, {"a/train.py"}),
    ({"README.md": "torchrun a/train.py\npython -m train --help\n"}, set()),  # either module, run as one process
])
def test_a_name_several_entries_share_is_read_where_the_document_is(documents, launched):
    assert _launched(["a/train.py", "b/train.py"], documents) == launched


GPU_COUNT = '''
import argparse

import torch
import torch.distributed as dist


def worker(rank, num_gpus):
    if num_gpus > 1:
        dist.init_process_group(backend="nccl", init_method="tcp://127.0.0.1:29500", rank=rank, world_size=num_gpus)
    device = torch.device("cuda", rank) if num_gpus > 1 else torch.device("cpu")
    print(device)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gpus", type=int, required=True)
    args = parser.parse_args()
    if args.gpus == 1:
        worker(0, args.gpus)
    else:
        torch.multiprocessing.spawn(worker, args=(args.gpus,), nprocs=args.gpus)


if __name__ == "__main__":
    main()
'''
"""A script that starts one process per GPU its `--gpus` count asks for."""


@pytest.mark.parametrize(("readme", "severity"), [
    ("```\npython fit.py --gpus=8\npython fit.py --gpus 2 --resume last.pkl\n```\n", "error"),
    ("```\npython fit.py --gpus=8\npython fit.py --gpus=1\n```\n", "warning"),
    ("```\npython fit.py\n```\n", "warning"),
])
def test_a_process_count_every_command_gives_above_one_launches_the_script(cli, tmp_path, readme, severity):
    write(tmp_path / "fit.py", GPU_COUNT)
    write(tmp_path / "README.md", readme)
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    found = {(finding["line"], finding["targets"]["cpu"]["severity"]) for finding in report["findings"]}
    assert found == {(10, severity), (11, severity)}


SLURM_ARM = DIST.replace(
    '''    if "RANK" not in os.environ:
        print("running as one process")
        return
    local_rank = int(os.environ["LOCAL_RANK"])''',
    '''    if "RANK" in os.environ:
        local_rank = int(os.environ["LOCAL_RANK"])
    elif "SLURM_PROCID" in os.environ:
        local_rank = int(os.environ["SLURM_PROCID"]) % torch.cuda.device_count()
        torch.cuda.set_device(local_rank)
    else:
        return''',
)


def test_a_slurm_arm_stays_another_path_where_no_documented_command_runs_srun(cli, tmp_path):
    _project(tmp_path, {"README.md": TORCHRUN})
    write(tmp_path / "trainer/dist.py", SLURM_ARM)
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    found = {(finding["line"], finding["rule"], finding["targets"]["cpu"]["severity"]) for finding in report["findings"]}
    assert found == {
        (12, "CDA112", "warning"), (13, "CDA101", "warning"),  # the Slurm arm
        (16, "CDA106", "error"), (17, "CDA101", "error"),  # the torchrun arm
    }


SWITCHED_TRAIN = '''
import argparse

import torch
from torch.nn.parallel import DistributedDataParallel

from trainer import dist


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--local-rank", type=int, default=0)
    args = parser.parse_args()
    dist.init_distributed()
    model = torch.nn.Linear(2, 2)
    if args.distributed:
        model = DistributedDataParallel(model, device_ids=[args.local_rank])
    print(model)


if __name__ == "__main__":
    main()
'''
"""A launch switch off by default (`store_true`), which the distributed set-up turns on."""


@pytest.mark.parametrize(("readme", "severity"), [
    (TORCHRUN, "error"),
    (TORCHRUN + "Evaluate: `python trainer/train.py --test`\n", "error"),
    ("Train: `python trainer/train.py --epochs 3`\n", "warning"),
])
def test_a_launch_switch_off_by_default_is_on_where_the_documents_launch_the_route(cli, tmp_path, readme, severity):
    _project(tmp_path, {"README.md": readme, "trainer/train.py": SWITCHED_TRAIN})
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    found = {finding["targets"]["cpu"]["severity"] for finding in report["findings"] if finding["rule"] == "CDA107"}
    assert found == {severity}


SUBMIT = '''
import argparse

import submitit


class Job:
    def __init__(self, args):
        self.args = args

    def __call__(self):
        import train_net as trainer

        trainer.main()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=1)
    args = parser.parse_args()
    executor = submitit.AutoExecutor(folder="jobs")
    executor.update_parameters(gpus_per_node=4, tasks_per_node=4, nodes=args.nodes)
    executor.submit(Job(args))


if __name__ == "__main__":
    main()
'''
"""A Slurm launcher through submitit: a task per GPU, each running the training script's `main`."""


@pytest.mark.parametrize(("launcher", "severity"), [
    (SUBMIT, "error"),  # the scheduler starts a task per GPU: the Slurm arm is the documented route's
    (SUBMIT.replace(", tasks_per_node=4", ""), "warning"),  # one task a node: no reading of its ranks
    (SUBMIT.replace("import train_net as trainer", "import other_net as trainer"), "warning"),  # submits another
])
def test_a_submitit_launcher_documented_as_the_route_launches_the_script_it_submits(cli, tmp_path, launcher, severity):
    write(tmp_path / "trainer/__init__.py", "")
    write(tmp_path / "trainer/dist.py", SLURM_ARM)
    write(tmp_path / "train_net.py", TRAIN)
    write(tmp_path / "submit_slurm.py", launcher)
    write(tmp_path / "README.md", "Train on 2 nodes:\n\n```\npython submit_slurm.py --nodes 2\n```\n")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    found = {(finding["line"], finding["targets"]["cpu"]["severity"]) for finding in report["findings"]}
    assert {(12, severity), (13, severity)} <= found
