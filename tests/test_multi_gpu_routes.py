"""A script a document introduces as the multi-GPU way beside a single-process one ("If you have
several GPUs, run the distributed script instead") is another path on CPU: its findings are
warnings, while the single-process script keeps its errors (`multi_gpu_routes.multi_gpu_siblings`)."""

from __future__ import annotations

import pytest

from cudaudit.documented_commands import DocumentedCommands
from cudaudit.rules.python.multi_gpu_routes import multi_gpu_siblings
from support import scan_json, severities_by_file, write

SINGLE = '''
import torch
import torch.nn as nn


def main():
    model = nn.Linear(4, 2).cuda()
    print(model(torch.randn(3, 4).cuda()))


if __name__ == "__main__":
    main()
'''
SEVERAL = '''
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn


def worker(rank, world):
    dist.init_process_group("nccl", init_method="tcp://127.0.0.1:23456", rank=rank, world_size=world)
    torch.cuda.set_device(rank)
    model = nn.Linear(4, 2).cuda()
    print(model(torch.randn(3, 4).cuda()))


if __name__ == "__main__":
    mp.spawn(worker, args=(2,), nprocs=2)
'''
PROSE = "Train on one GPU:\n\n    python train.py --cfg base\n\nIf you have several GPUs, run the distributed script instead:\n\n    python train_ddp.py --cfg base\n"
COMMENTS = (
    "Run training like below (for multi-GPU machines, use train_ddp.py)\n```\n"
    "python train.py --cfg base   # on one GPU\npython train_ddp.py --cfg base   # if you run on multi GPU\n```\n"
)


def _severities(cli, tmp_path, readme: str, script: str | None = None) -> dict[str, set[str]]:
    project = tmp_path / "proj"
    write(project / "train.py", SINGLE)
    write(project / "train_ddp.py", SEVERAL)
    write(project / "README.md", readme)
    if script is not None:
        write(project / "scripts" / "run.sh", script)
    return severities_by_file(scan_json(cli, "--no-cache", "proj", cwd=tmp_path), "cpu")


@pytest.mark.parametrize("readme", [PROSE, COMMENTS])
def test_the_multi_gpu_sibling_of_a_documented_single_process_script_is_another_path_on_cpu(cli, tmp_path, readme):
    found = _severities(cli, tmp_path, readme)
    assert found["train.py"] == {"error"}
    assert found["train_ddp.py"] <= {"warning", "note"} and "warning" in found["train_ddp.py"]


@pytest.mark.parametrize(("readme", "script"), [
    ("If you have several GPUs:\n\n    python train_ddp.py --cfg base\n", None),  # no single-process route beside it
    (PROSE + "\nOr simply:\n\n    python train_ddp.py --cfg small\n", None),  # a plain run of it too
    (PROSE, "#!/bin/bash\npython train_ddp.py --cfg base\n"),  # a script of the project runs it
])
def test_a_script_the_documents_run_otherwise_keeps_its_errors(cli, tmp_path, readme, script):
    assert "error" in _severities(cli, tmp_path, readme, script)["train_ddp.py"]


def test_the_words_are_the_machines_never_the_scripts_name():
    readme = b"Train:\n\n    python train.py\n\nTrain again:\n\n    python train_multi_gpu.py\n"
    commands = DocumentedCommands({"README.md": lambda: readme})
    assert multi_gpu_siblings(commands, ["train.py", "train_multi_gpu.py"]) == {}
    readme = readme.replace(b"Train again:", b"With 8 GPUs:")
    commands = DocumentedCommands({"README.md": lambda: readme})
    assert list(multi_gpu_siblings(commands, ["train.py", "train_multi_gpu.py"])) == ["train_multi_gpu.py"]
