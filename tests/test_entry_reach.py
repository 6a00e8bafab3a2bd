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
    assert reached["test.py"] == {"encode", "header", "head"}, (
        "a method the run calls through another (`self.encode`), the default of a function it calls"
        " without that parameter (`build()`) and a module an import in a reached"
        " function runs; not `forward` called on another object, another function, nor an imported"
        " module's `__main__` block"
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


PIPELINE = """\
import torch


class Sampler:
    def __init__(self, steps):
        self.steps = steps

    def __call__(self, x):
        return x.to("cuda")

    def warm(self, x):
        return x


class Runner:
    def __init__(self, device="cpu"):
        self.sampler: Sampler = make_sampler()
        self.spare = Sampler(2)

    def __call__(self, x):
        return self.sampler(x)

    def peek(self, x):
        return self.spare.warm(x)


def make_sampler():
    return Sampler(4)
"""


def test_calling_an_object_of_a_known_class_reaches_its_call_method(tmp_path, monkeypatch):
    """`__call__` runs where the object called was built of the class or declared as it, up to one
    attribute away (`runner.sampler(x)`); an object of unknown class, called, names no class."""
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "flow" / "__init__.py", "")
    write(tmp_path / "flow" / "pipeline.py", PIPELINE)
    write(tmp_path / "gen.py", "from flow.pipeline import Runner\n\nrunner = Runner()\nprint(runner(1))\n")
    write(tmp_path / "direct.py", "from flow.pipeline import Runner\n\n\ndef main():\n    r = Runner()\n"
          "    return r.sampler(1)\n\n\nmain()\n")
    write(tmp_path / "peek.py", "from flow.pipeline import Runner\n\nrunner = Runner()\nrunner.peek(1)\n"
          "step = pick()\nstep(1)\n")
    sources = ["flow/__init__.py", "flow/pipeline.py", "gen.py", "direct.py", "peek.py"]
    sites = {"call": ("flow/pipeline.py", 9)}
    reached = reached_sites(["gen.py", "direct.py", "peek.py"], sources, sites, "")
    assert reached["gen.py"] == {"call"}, "the runner's `__call__` calls its sampler, declared a `Sampler`"
    assert reached["direct.py"] == {"call"}, "a local runner's sampler attribute, called"
    assert reached["peek.py"] == frozenset(), "the spare sampler is only warmed; `step` is of no known class"


MIXER = """\
import torch


class Mixer:
    def __init__(self, width, device="cuda", *, dtype=torch.zeros(1, device="cuda").dtype):
        self.width = width


def blend(a, b, device="cuda"):
    return a, b
"""


def test_a_default_is_reached_only_by_a_call_that_leaves_its_parameter_out(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "mixer.py", MIXER)
    write(tmp_path / "passes.py", "from mixer import Mixer, blend\n\nMixer(8, 'cpu', dtype=None)\nblend(1, 2, 'cpu')\n"
          "blend(*pair)\n")
    write(tmp_path / "takes.py", "from mixer import Mixer, blend\n\nMixer(width=8, device='cpu')\nblend(1, b=2)\n")
    sites = {"init": ("mixer.py", 5), "blend": ("mixer.py", 9)}
    reached = reached_sites(["passes.py", "takes.py"], ["mixer.py", "passes.py", "takes.py"], sites, "")
    assert reached["passes.py"] == frozenset(), "each call passes the device, by position or through `*pair`"
    assert reached["takes.py"] == {"init", "blend"}, "the class's own name calls `__init__`, leaving `dtype` out; `blend` leaves `device` out"


def test_a_script_imports_the_module_beside_it_by_its_bare_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "group" / "__init__.py", "")
    write(tmp_path / "group" / "fast.py", "import torch\nSTREAM = torch.cuda.Stream()\n")
    write(tmp_path / "group" / "train_group.py", "from fast import STREAM\n\nprint(STREAM)\n")
    sources = ["group/__init__.py", "group/fast.py", "group/train_group.py"]
    assert reached_sites(["group/train_group.py"], sources, {"stream": ("group/fast.py", 2)}, "") == {
        "group/train_group.py": {"stream"}
    }, "Python puts the script's folder first on the path"


LOADER = """\
import torch


def load(path, device="cuda"):
    return torch.load(path, map_location=device)


class Runner:
    def load(self, path, device="cuda"):
        return path, device
"""


def test_a_call_reaches_a_default_only_of_the_function_its_name_resolves_to(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "loader.py", LOADER)
    write(tmp_path / "passes.py", "import torch\nfrom loader import load\n\nload('w.pt', device='cpu')\ntorch.load('w.pt')\n")
    write(tmp_path / "through.py", "import loader\n\nloader.load('w.pt')\n")
    write(tmp_path / "method.py", "from loader import Runner, load\n\nload('w.pt', 'cpu')\nRunner().load('w.pt')\n")
    sites = {"function": ("loader.py", 4), "method": ("loader.py", 9)}
    scripts = ["passes.py", "through.py", "method.py"]
    reached = reached_sites(scripts, ["loader.py", *scripts], sites, "")
    assert reached["passes.py"] == frozenset(), "the run passes the device; `torch.load` is the library's, and its own body's"
    assert reached["through.py"] == {"function"}, "an attribute of the project's module calls that module's function"
    assert reached["method.py"] == {"method"}, "an attribute of an object calls a method of that name, not the function"
