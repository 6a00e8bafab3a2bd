"""A load of a file that every save of the project fills with CPU values only is no finding (`rules/python/checkpoint_writers.py`)."""

from __future__ import annotations

from cudaudit.rules.python.checkpoint_writers import cpu_saved_files, saved_files
from support import analyze

FINETUNE = '''import os
import torch


def load_datasets(data_dir):
    train = torch.load(os.path.join(data_dir, "train.pt"))
    weights = torch.load(f"{data_dir}/base.pth")
    return train, weights
'''
PREPARE = '''import torch
from pathlib import Path


def prepare(out: Path, tokenizer, rows):
    samples = [{"ids": tokenizer.encode(row)} for row in rows]
    torch.save(samples, out / "train.pt")
'''
CONVERT = '''import torch


def convert(source, out):
    weights = torch.load(source, map_location="cpu")
    torch.save({k.replace("a.", "b."): v for k, v in weights.items()}, f"{out}/base.pth")
'''
MERGE = '''import torch


def merge(model, out):
    model.to(model.device)
    torch.save(model.state_dict(), out + "/base.pth")
'''


def loads(files: dict[str, str]) -> list[int]:
    return [f.span.line for f in analyze(FINETUNE, path="finetune.py", files=files) if f.rule == "CDA115"]


def test_files_written_only_from_cpu_values_elsewhere_load_anywhere():
    assert loads({"prepare_data.py": PREPARE, "convert_weights.py": CONVERT}) == []


def test_a_writer_that_names_a_device_keeps_the_warning():
    assert loads({"prepare_data.py": PREPARE, "convert_weights.py": CONVERT, "merge.py": MERGE}) == [7]
    unplaced = CONVERT.replace(', map_location="cpu"', "")
    assert loads({"prepare_data.py": PREPARE, "convert_weights.py": unplaced}) == [7]


def test_names_no_writer_or_only_a_test_writes_are_kept():
    assert loads({}) == [6, 7]
    assert loads({"tests/test_prepare.py": PREPARE}) == [6, 7]


def test_a_save_moved_to_the_cpu_counts_in_a_module_that_names_devices():
    moved = 'import torch\n\n\ndef dump(model, out):\n    torch.save(model.cuda().cpu(), out / "train.pt")\n'
    assert saved_files("dump.py", moved.encode()) == (("train.pt", True),)
    assert saved_files("dump.py", b'import torch\ntorch.save(x, f"{name}.pt")\n') == ()
    assert saved_files("dump.py", b"import os\n") == ()
    assert cpu_saved_files([(("a.pt", True), ("b.pt", True)), (("b.pt", False),)]) == frozenset({"a.pt"})
