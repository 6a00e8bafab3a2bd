"""A flag an object turns on only in a method nothing in the project calls is off wherever it is
read: what it guards runs on no target (`rules/python/unset_flags.py`)."""

from __future__ import annotations

import pytest

from support import scan_json, write

DECODER = (
    "import torch\nfrom {base_module} import {base}\n\n\n"
    "class Decoder({base}):\n"
    "    def __init__(self):\n        super().__init__()\n        self.split = False\n        self.first = None\n\n"
    "    def spread(self, devices):\n        self.first = devices[0]\n        self.split = True\n\n"
    "    def forward(self, x):\n        if self.split:\n            torch.cuda.set_device(self.first)\n        return x * 2\n"
)
RUN = (
    "import torch\nfrom pkg.decoder import Decoder\n\n\n"
    "def main():\n    dec = Decoder()\n{extra}    print(dec(torch.ones(2)))\n\n\nif __name__ == '__main__':\n    main()\n"
)


@pytest.mark.parametrize(
    ("base_module", "base", "extra", "other", "severity"),
    [
        ("torch.nn", "Module", "", {}, "note"),  # nothing calls `spread`: the flag stays False
        ("torch.nn", "Module", "    dec.spread([0, 1])\n", {}, "error"),  # the run turns it on
        ("torch.nn", "Module", "", {"pkg/tools.py": "def shard(model):\n    model.spread([0])\n"}, "error"),  # another module calls it
        ("torch.nn", "Module", "", {"pkg/tools.py": "def shard(model):\n    model.split = True\n"}, "error"),  # another store
        ("transformers", "PreTrainedModel", "", {}, "error"),  # a base that may call `spread` itself
    ],
)
def test_a_flag_set_only_by_a_method_nothing_calls_guards_nothing_that_runs(cli, tmp_path, base_module, base, extra, other, severity):
    write(tmp_path / "pkg/__init__.py", "")
    write(tmp_path / "pkg/decoder.py", DECODER.format(base_module=base_module, base=base))
    write(tmp_path / "run.py", RUN.format(extra=extra))
    write(tmp_path / "README.md", "Run `python run.py`.\n")
    for path, text in other.items():
        write(tmp_path / path, text)
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["path"], f["line"], f["severity"]) for f in report["findings"] if f["rule"] == "CDA101"] == [
        ("pkg/decoder.py", 17, severity)
    ]


def test_a_method_copied_from_a_library_that_leaves_it_to_its_users_turns_nothing_on(cli, tmp_path):
    write(tmp_path / "pkg/__init__.py", "")
    write(tmp_path / "pkg/decoder.py", DECODER.format(base_module="transformers", base="PreTrainedModel").replace("spread", "parallelize"))
    write(tmp_path / "run.py", RUN.format(extra=""))
    write(tmp_path / "README.md", "Run `python run.py`.\n")
    report = scan_json(cli, "--no-cache", "--show-portable")
    assert [(f["line"], f["severity"]) for f in report["findings"] if f["rule"] == "CDA101"] == [(17, "note")]
