"""An option of several values (`--launcher`, `none` by default) that every documented command of
an entry gives one value (`--launcher torchrun`): the arm that value selects, and the helpers it
calls, are the normal path of those commands; the default's arm and the arms of values no command
gives are another path (`documented_flags.documented_values`, `project_index._settings_documented`,
`entry_routes.only_routes`)."""

from __future__ import annotations

import pytest

from cudaudit.documented_commands import DocumentedCommands
from cudaudit.rules.python.documented_flags import documented_values
from support import scan_json, write

OPTIONS = '''
import argparse

from sampler.spread import start_ranks


def read_options():
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipe", type=str, required=True)
    parser.add_argument("--launcher", choices=["none", "torchrun", "mpi"], default="none")
    args = parser.parse_args()
    settings = {"recipe": args.recipe}
    if args.launcher == "none":
        settings["spread"] = False
    else:
        settings["spread"] = True
        start_ranks(args.launcher)
    return settings
'''
SPREAD = '''
import os

import torch
import torch.distributed as dist


def start_ranks(launcher, backend="nccl"):
    if launcher == "torchrun":
        _from_torchrun(backend)
    elif launcher == "mpi":
        _from_mpi(backend)
    else:
        raise ValueError(launcher)


def _from_torchrun(backend):
    rank = int(os.environ["RANK"])
    torch.cuda.set_device(rank % torch.cuda.device_count())
    dist.init_process_group(backend=backend)


def _from_mpi(backend):
    rank = int(os.environ["OMPI_COMM_WORLD_RANK"])
    torch.cuda.set_device(rank % torch.cuda.device_count())
    dist.init_process_group(backend=backend)
'''
ENTRY = '''
from sampler.options import read_options


def main():
    print(read_options())


if __name__ == "__main__":
    main()
'''
LINES = {19: "set_device (torchrun)", 25: "set_device (mpi)"}
FIT = "python -m torch.distributed.launch --nproc_per_node=2 sampler/fit.py --recipe a.yml"
CHECK = "python -m torch.distributed.launch --nproc_per_node=1 sampler/check.py --recipe a.yml"


def _severities(cli, root, readme: str) -> dict[str, str]:
    write(root / "sampler/__init__.py", "")
    write(root / "sampler/options.py", OPTIONS)
    write(root / "sampler/spread.py", SPREAD)
    write(root / "sampler/fit.py", ENTRY)
    write(root / "sampler/check.py", ENTRY)
    write(root / "README.md", readme)
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return {
        LINES[finding["line"]]: finding["targets"]["cpu"]["severity"]
        for finding in report["findings"]
        if finding["path"] == "sampler/spread.py" and finding["line"] in LINES and finding["rule"] != "CDA112"
    }


OTHER_PATH = {"set_device (torchrun)": "warning", "set_device (mpi)": "warning"}


@pytest.mark.parametrize("readme", [
    f"Train:\n```\n{FIT} --launcher torchrun\n```\nCheck:\n```\n{CHECK} --launcher torchrun\n```\n",
    f"```\n{FIT} --launcher=torchrun\n{CHECK} --launcher=torchrun --verbose\n```\n",
])
def test_the_arm_every_documented_command_selects_is_the_normal_path(cli, tmp_path, readme):
    assert _severities(cli, tmp_path, readme) == {**OTHER_PATH, "set_device (torchrun)": "error"}


@pytest.mark.parametrize("readme", [
    f"```\n{FIT} --launcher torchrun\n{CHECK}\n```\n",  # the check runs with the default
    f"```\n{FIT} --launcher torchrun\n{CHECK} --launcher mpi\n```\n",  # two values
    f"```\n{FIT} --launcher ${{LAUNCHER}}\n{CHECK} --launcher ${{LAUNCHER}}\n```\n",  # the shell's value
    f"```\n{FIT}\n{CHECK}\n```\n",  # none
])
def test_a_value_only_some_commands_give_keeps_the_arms_another_path(cli, tmp_path, readme):
    assert _severities(cli, tmp_path, readme) == OTHER_PATH


def test_documented_values_keeps_the_plain_values_every_command_of_a_script_gives():
    readme = (
        b"```\npython tools/fit.py --launcher torchrun --ring-size=4 --seed 1 --name $RUN\n"
        b"python tools/fit.py --launcher torchrun --ring-size=4 --seed 2 --name $RUN --quiet\n"
        b"python tools/check.py --launcher torchrun\n"
        b"python tools/check.py --launcher=mpi\n```\n"
    )
    commands = DocumentedCommands({"README.md": lambda: readme})
    assert documented_values(commands) == {"fit.py": {"launcher": "torchrun", "ring_size": 4}, "check.py": {}}


def test_a_cuda_device_is_a_documented_value_where_a_shell_script_gives_it():
    """`--device cuda:0` in a shell script the README runs is the route's choice, reported at the
    script's line; the same words in the README's own command are no value (the program's default
    stands for that command's break)."""
    script = b"#!/bin/bash\npython demo/pose.py cfg.py --input \"$1\" --device cuda:0 --mode=cuda\n"
    readme = b"```\nbash demo/run.sh photo.jpg\npython demo/render.py --device cuda --steps 2\n```\n"
    commands = DocumentedCommands({"README.md": lambda: readme, "demo/run.sh": lambda: script})
    assert documented_values(commands) == {"pose.py": {"device": "cuda:0", "mode": "cuda"}, "render.py": {"steps": 2}}


DEMO = '''
import argparse

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("config")
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--device", default="cuda:0")
    args = parser.parse_args()
    print(torch.nn.Linear(2, 2).to(args.device))


if __name__ == "__main__":
    main()
'''


@pytest.mark.parametrize(("readme", "default", "line"), [
    ("```\nbash run.sh photo.jpg\n```\n", "warning", "error"),  # the script's line is the route's choice
    ("```\nbash run.sh photo.jpg\npython pose.py cfg.py\n```\n", "error", "error"),  # a run with the default
    ("```\npython pose.py cfg.py --device cuda:0\n```\n", "error", "error"),  # the README's own command
])
def test_a_device_every_documented_command_passes_through_a_shell_script_is_reported_at_its_line(
    cli, tmp_path, readme, default, line
):
    project = tmp_path / "proj"
    write(project / "demo" / "pose.py", DEMO)
    write(project / "demo" / "run.sh", '#!/bin/bash\npython pose.py cfg.py \\\n    --input "$1" \\\n    --device cuda:0\n')
    write(project / "demo" / "README.md", readme)
    report = scan_json(cli, "--no-cache", "proj", cwd=tmp_path)
    found = {(f["path"], f["line"]): f["severity"] for f in report["findings"] if f["rule"] == "CDA103"}
    assert found == {("proj/demo/pose.py", 11): default, ("proj/demo/run.sh", 4): line}
