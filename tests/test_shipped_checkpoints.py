"""A `torch.load` of a file the project ships, read without loading it: where its pickle records only
CPU storages the load restores CPU tensors anywhere and is not lock-in
(`rules/python/shipped_checkpoints.py`, through the project index)."""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict

import pytest

from cudaudit.rules.python.shipped_checkpoints import storage_locations
from support import scan_json, write

MODULE = '''
import os
import torch

STATS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "assets", "stats.pt")


class Normalizer:
    def __init__(self, stats_file=STATS):
        self.stats_file = stats_file
        self.stats = torch.load(self.stats_file)


def load_table():
    return torch.load(os.path.join(os.path.dirname(__file__), "assets", "table.pt"))
'''


class _Saver(pickle.Pickler):
    """Writes tensors as `torch.save` does: each storage by a persistent id naming its device."""

    def __init__(self, stream: io.BytesIO) -> None:
        super().__init__(stream, protocol=2)

    def persistent_id(self, obj: object) -> object:
        if isinstance(obj, _Storage):
            return ("storage", _Storage, obj.key, obj.device, 4)
        return None


class _Storage:
    def __init__(self, key: str, device: str) -> None:
        self.key, self.device = key, device


def _pickled(devices: list[str]) -> bytes:
    stream = io.BytesIO()
    state = OrderedDict((f"w{i}", _Storage(str(i), device)) for i, device in enumerate(devices))
    _Saver(stream).dump(state)
    return stream.getvalue()


def _archive(devices: list[str]) -> bytes:
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as archive:
        archive.writestr("stats/data.pkl", _pickled(devices))
        archive.writestr("stats/version", "3\n")
        for index in range(len(devices)):
            archive.writestr(f"stats/data/{index}", b"\0" * 16)
    return stream.getvalue()


def _legacy(devices: list[str]) -> bytes:
    header = b"".join(pickle.dumps(value, protocol=2) for value in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}))
    return header + _pickled(devices) + pickle.dumps([str(i) for i in range(len(devices))], protocol=2)


@pytest.mark.parametrize("make", [_archive, _legacy])
def test_the_devices_of_a_files_storages_are_read_from_its_pickle(make):
    assert storage_locations(make(["cpu", "cpu"])) == {"cpu"}
    assert storage_locations(make(["cpu", "cuda:0", "cuda:0"])) == {"cpu", "cuda:0"}


def test_bytes_that_are_no_checkpoint_say_nothing():
    assert storage_locations(b"PK\x03\x04 not an archive") is None
    assert storage_locations(pickle.dumps({"a": 1}, protocol=2)) is None


def _findings(cli, root) -> list[int]:
    report = scan_json(cli, "--no-cache", "proj", cwd=root)
    return sorted(f["line"] for f in report["findings"] if f["rule"] == "CDA115")


@pytest.mark.parametrize("make", [_archive, _legacy])
def test_a_load_of_a_shipped_file_whose_storages_are_all_on_the_cpu_is_not_reported(cli, tmp_path, make):
    write(tmp_path / "proj" / "norm" / "__init__.py", MODULE)
    write(tmp_path / "proj" / "norm" / "assets" / "stats.pt", make(["cpu", "cpu"]))
    write(tmp_path / "proj" / "norm" / "assets" / "table.pt", make(["cuda:0"]))
    assert _findings(cli, tmp_path) == [15]  # the table, saved from a GPU, is still reported


def test_a_load_of_a_file_the_project_does_not_ship_is_still_reported(cli, tmp_path):
    write(tmp_path / "proj" / "norm" / "__init__.py", MODULE)
    assert _findings(cli, tmp_path) == [11, 15]


def test_a_file_outside_the_scanned_tree_is_never_read(cli, tmp_path):
    write(tmp_path / "proj" / "norm" / "__init__.py", MODULE.replace('"assets", "stats.pt"', '"..", "..", "stats.pt"'))
    write(tmp_path / "stats.pt", _archive(["cpu"]))
    assert 11 in _findings(cli, tmp_path)


def test_a_cached_scan_reads_the_shipped_file_again(cli, tmp_path):
    write(tmp_path / "proj" / "norm" / "__init__.py", MODULE)
    stats = write(tmp_path / "proj" / "norm" / "assets" / "stats.pt", _archive(["cpu"]))
    first = scan_json(cli, "proj", cwd=tmp_path)
    stats.write_bytes(_archive(["cuda:0"]))
    second = scan_json(cli, "proj", cwd=tmp_path)
    assert [f["line"] for f in first["findings"] if f["rule"] == "CDA115"] == [15]
    assert sorted(f["line"] for f in second["findings"] if f["rule"] == "CDA115") == [11, 15]
