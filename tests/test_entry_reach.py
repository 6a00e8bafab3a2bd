"""Which sites a documented script's run reaches (`entry_reach.py`), read from made-up modules."""

from __future__ import annotations

from cudaudit.cache import Cache
from cudaudit.entry_reach import reached_sites
from support import write

NET = """\
import torch


class Generator(torch.nn.Module):
    def encode(self, x):
        return x.cuda()

    def infer(self, x):
        return self.encode(x)

    def forward(self, x):
        return x.cuda()


def build(device="cuda"):
    from models import heads
    return Generator()


def train_step(x):
    return x.cuda()


if __name__ == "__main__":
    train_step(torch.zeros(2))
"""
SITES = {"encode": 6, "forward": 12, "header": 15, "train_step": 21, "main": 25, "head": 2}


def test_a_run_reaches_what_its_code_names_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "models" / "__init__.py", "")
    write(tmp_path / "models" / "net.py", NET)
    write(tmp_path / "models" / "heads.py", "import torch\nHEAD = torch.zeros(2).cuda()\n")
    write(tmp_path / "test.py", "import torch\nfrom models.net import build\n\nbuild().infer(torch.zeros(2))\n"
          "other.forward(torch.zeros(2))\n")
    write(tmp_path / "train.py", "import models.net as net\n\nnet.train_step(None)\n")
    sources = ["models/__init__.py", "models/net.py", "models/heads.py", "test.py", "train.py"]
    sites = {name: ("models/heads.py" if name == "head" else "models/net.py", line) for name, line in SITES.items()}
    reached = reached_sites(["test.py", "train.py"], sources, sites, "")
    assert reached["test.py"] == {"encode", "head"}, (
        "a method the run calls through another (`self.encode`) and a module an import in a reached"
        " function runs; not `forward` called on another object, a parameter's default, another"
        " function, nor an imported module's `__main__` block"
    )
    assert reached["train.py"] == {"train_step"}, "a function called through the module's alias"


def test_a_module_that_does_not_parse_reaches_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "test.py", "import torch\nfrom lib import run\n\nrun()\n")
    write(tmp_path / "lib.py", "def run(:\n    torch.zeros(2).cuda()\n")
    assert reached_sites(["test.py"], ["test.py", "lib.py"], {0: ("lib.py", 2)}, "") == {"test.py": frozenset()}


def test_a_method_reads_its_own_attributes_up_its_bases(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "base.py", "class Base:\n    def helper(self, x):\n        return x.cuda()\n\n"
          "    def other(self, x):\n        return x.cuda()\n")
    write(tmp_path / "model.py", "from base import Base\n\n\nclass Model(Base):\n    def run(self, x):\n"
          "        return self.helper(x)\n")
    write(tmp_path / "infer.py", "from model import Model\n\nModel().run(1)\n")
    sites = {"helper": ("base.py", 3), "other": ("base.py", 6)}
    assert reached_sites(["infer.py"], ["base.py", "model.py", "infer.py"], sites, "") == {"infer.py": {"helper"}}


def test_a_warm_scan_takes_the_kept_answer_until_a_module_changes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "infer.py", "from lib import run\n\nrun()\n")
    write(tmp_path / "lib.py", "def run():\n    return x.cuda()\n\n\ndef other():\n    return x.cuda()\n")
    sites, sources = {"run": ("lib.py", 2), "other": ("lib.py", 6)}, ["infer.py", "lib.py"]
    cache = Cache(tmp_path / "cache")
    assert reached_sites(["infer.py"], sources, sites, "", cache.store("reach", "code")) == {"infer.py": {"run"}}
    kept = cache.store("reach", "code")
    assert not kept.holds_nothing(), "the answer is kept for the next scan"
    assert reached_sites(["infer.py"], sources, sites, "", kept) == {"infer.py": {"run"}}
    write(tmp_path / "infer.py", "from lib import other\n\nother()\n")
    assert reached_sites(["infer.py"], sources, sites, "", cache.store("reach", "code")) == {"infer.py": {"other"}}, (
        "an edited module is a miss: the answer is read again"
    )
