"""A parameter's CUDA default is judged by the calls that decide it: the module's own, the calls of
the modules that import the function, and the README's examples."""

from __future__ import annotations

from functools import partial

import pytest

from cudaudit.model import Severity
from cudaudit.rules.python.project_calls import HANDED_ON, calls_elsewhere, cuda_defaults, from_imports, readme_examples
from support import analyze

BUILDER = '''import torch

def build_model(config, device="cuda"):
    return torch.nn.Linear(4, 4).to(device)
'''


def cpu_severity(code: str, **kwargs) -> Severity | None:
    """The CPU severity of the one CDA103 finding on the line that spells `"cuda"` first."""
    found = [f for f in analyze(code, **kwargs) if f.rule == "CDA103"]
    return found[0].targets["cpu"].severity if found else None


def test_a_default_every_call_of_the_module_gives_a_value_is_never_taken():
    code = BUILDER + '''
def _frames(path, compute_device=torch.device("cuda")):
    return torch.load(path, map_location=compute_device)

def load(path, device):
    return _frames(path, compute_device=device), build_model(path, device)
'''
    found = sorted((f.span.line, f.targets["cpu"].severity) for f in analyze(code) if f.rule == "CDA103")
    assert found == [(3, Severity.NOTE), (6, Severity.NOTE)]


def test_a_call_that_leaves_the_default_out_keeps_the_error():
    assert cpu_severity(BUILDER + "\nmodel = build_model('a.yaml')\n") == Severity.ERROR


def test_a_function_nothing_calls_keeps_another_path():
    assert cpu_severity(BUILDER) == Severity.WARNING


def test_a_public_method_may_be_called_where_this_reading_does_not_follow():
    code = '''import torch

class Loader:
    def fetch(self, path, device="cuda"):
        return torch.load(path, map_location=device)

    def refetch(self, path, device):
        return self.fetch(path, device=device)
'''
    assert cpu_severity(code) == Severity.WARNING


GENERATOR = '''import torch


class Points:
    def grid(self, sizes, dtype=torch.float32, device="cuda"):
        return [self.level(size, dtype, device=device) for size in sizes]

    def level(self, size, dtype, device="cuda"):
        return torch.arange(size, dtype=dtype, device=device)

    def flags(self, sizes, device="cuda"):
        return [torch.ones(size, dtype=torch.bool, device=device) for size in sizes]
'''


def method_severities(head: str, base: str = "") -> list[tuple[int, Severity]]:
    code = GENERATOR.replace("class Points:", f"class Points{base}:")
    files = {"README.md": "# Geo\n", "geo/__init__.py": "", "geo/head.py": head}
    found = analyze(code, path="geo/points.py", files=files)
    return sorted((f.span.line, f.targets["cpu"].severity) for f in found if f.rule == "CDA103")


def test_a_public_method_every_call_in_the_project_gives_a_device_never_takes_its_default():
    head = "def run(points, feats):\n    return points.grid(feats.shape, feats.dtype, device=feats.device)\n"
    # `flags`, which nothing calls, is a plain class's method: no framework calls it as a hook
    assert method_severities(head) == [(5, Severity.NOTE), (8, Severity.NOTE), (11, Severity.NOTE)]
    assert method_severities(head, "(torch.nn.Module)") == [(5, Severity.NOTE), (8, Severity.NOTE), (11, Severity.WARNING)]
    registered = GENERATOR.replace("class Points:", "@GENERATORS.register_module()\nclass Points:")
    found = analyze(registered, path="geo/points.py", files={"README.md": "# Geo\n", "geo/__init__.py": "", "geo/head.py": head})
    assert [f.targets["cpu"].severity for f in found if f.rule == "CDA103"] == [Severity.NOTE] * 3  # built by name


@pytest.mark.parametrize("head", [
    "def run(points, feats):\n    return points.grid(feats.shape)\n",  # a call that leaves it out
    "def run(points, feats):\n    return apply(points.grid, feats)\n",  # handed on: callers unseen
])
def test_a_public_method_some_call_may_take_the_default_of_keeps_the_warning(head):
    assert method_severities(head)[0] == (5, Severity.WARNING)


def test_a_class_every_construction_gives_a_device_is_never_built_on_the_default():
    code = '''import torch

class Sampler:
    def __init__(self, steps, device="cuda"):
        self.noise = torch.zeros(steps, device=device)

def make(steps, device):
    return Sampler(steps, device=device)
'''
    assert cpu_severity(code) == Severity.NOTE


REGISTERED = '''import torch
from registry import MODELS

@MODELS.register_module("vae")
def build_vae(path, device_map: str | torch.device = "cuda"):
    return torch.load(path, map_location=device_map)
'''


def test_a_registered_builder_is_a_public_default_that_configurations_call():
    assert cpu_severity(REGISTERED) == Severity.WARNING
    assert cpu_severity(REGISTERED + "\nvae = build_vae('vae.pt', device_map='cpu')\n") == Severity.WARNING
    assert cpu_severity(REGISTERED + "\nvae = build_vae('vae.pt')\n") == Severity.ERROR


def test_another_decorator_still_hands_the_function_to_callers_unseen():
    code = '''import torch
import typer

app = typer.Typer()

@app.command()
def run(path: str, device: str = "cuda"):
    torch.load(path, map_location=device)
'''
    assert cpu_severity(code) == Severity.ERROR


README = '''# Models

```bash
pip install models
```

```python
from models.build import build_model
model = build_model("configs/small.yaml")
```

>>> is not read outside a block: build_model("x", device="cpu")

```python
>>> from models.build import build_model
>>> build_model(
...     "configs/large.yaml", device="cpu")
```
'''


def test_readme_examples_are_the_python_of_its_fenced_blocks():
    code = readme_examples(README).decode()
    assert "pip install" not in code
    assert 'model = build_model("configs/small.yaml")' in code
    assert 'build_model(\n    "configs/large.yaml", device="cpu")' in code
    assert "is not read" not in code


def calls(files: dict[str, bytes], examples: dict[str, bytes] | None = None):
    """`calls_elsewhere` of `models/build.py`'s names, over `files` and the README's `examples`."""
    imports = {path: from_imports(text) for path, text in files.items()}
    defined = {"models/build.py": cuda_defaults("models/build.py", files["models/build.py"])}
    readers = {path: partial(bytes, text) for path, text in files.items()}
    return calls_elsewhere(readers, defined, imports, examples=examples)


def test_the_readme_calls_a_builder_as_a_module_that_imports_it():
    files = {"models/__init__.py": b"", "models/build.py": BUILDER.encode(), "models/train.py": b""}
    found = calls(files, {"README.md": readme_examples(README)})
    assert found == {"models/build.py": (("build_model", ((1, (), False), (1, ("device",), False))),)}


def test_a_name_handed_on_elsewhere_has_callers_unseen():
    chooser = (
        b"from models.build import (\n    build_model,\n)\n"
        b"__all__ = ['build_model']\n"
        b"BUILDERS = {'small': build_model}\n"
        b"model = BUILDERS[name](cfg, device=device)\n"
    )
    files = {"models/__init__.py": b"", "models/build.py": BUILDER.encode(), "cli.py": chooser}
    assert calls(files) == {"models/build.py": (("build_model", (HANDED_ON,)),)}
    passing = "from models.build import build_model\n\ndef train(cfg, device):\n    return build_model(cfg, device=device)\n"
    chosen = "from models.build import build_model\nBUILDERS = {'small': build_model}\n"
    project = {"models/__init__.py": "", "models/train.py": passing}
    assert cpu_severity(BUILDER, path="models/build.py", files=project) == Severity.NOTE
    assert cpu_severity(BUILDER, path="models/build.py", files={**project, "cli.py": chosen}) == Severity.WARNING


def test_a_class_built_only_through_a_called_table_of_choices_takes_the_calls_device():
    volume = (
        "import torch\n\n\nclass Box(torch.nn.Module):\n"
        '    def __init__(self, size, device=torch.device("cuda")):\n'
        "        super().__init__()\n        self.bounds = torch.zeros(size, device=device)\n"
    )
    factory = (
        "from models.volume import Box\n\n\n"
        "def build(name, device, config: dict, out: Box = None):\n"
        '    return {"box": Box}[name](device=device, **config)\n'
    )
    files = {"models/__init__.py": "", "models/build.py": factory}
    assert cpu_severity(volume, path="models/volume.py", files=files) == Severity.NOTE
    leaving_out = factory.replace("(device=device, **config)", "(config[\"size\"])")
    assert cpu_severity(volume, path="models/volume.py", files={**files, "models/build.py": leaving_out}) == Severity.ERROR


def test_a_class_named_in_its_own_super_call_is_built_only_by_its_constructions():
    """`super(Camera, self).__init__()` names the class to bind it, handing it to no caller; and an
    import whose line ends in a comment (`from .camera import Camera  # replace later`) still imports
    the name: its construction with a device decides the default."""
    camera = '''import torch

class Base:
    pass

class Camera(Base):
    def __init__(self, fov=50.0, device="cuda"):
        super(Camera, self).__init__()
        self.proj = torch.eye(4, device=device) * fov
'''
    caller = "from .camera import Camera  # replace later\n\ndef build(device):\n    return Camera(device=device)\n"
    files = {"geometry/__init__.py": "", "geometry/mesh.py": caller}
    assert cpu_severity(camera, path="geometry/camera.py", files=files) == Severity.NOTE
    leaving_out = {**files, "geometry/mesh.py": caller.replace("Camera(device=device)", "Camera()")}
    assert cpu_severity(camera, path="geometry/camera.py", files=leaving_out) == Severity.ERROR


def test_a_builder_the_readme_calls_without_a_device_is_an_error_on_cpu():
    caller = "from models.build import build_model\n\ndef train(cfg, device):\n    return build_model(cfg, device=device)\n"
    files = {"models/__init__.py": "", "models/train.py": caller}
    assert cpu_severity(BUILDER, path="models/build.py", files=files) == Severity.NOTE
    readme = "```python\nfrom models.build import build_model\nmodel = build_model('small.yaml')\n```\n"
    assert cpu_severity(BUILDER, path="models/build.py", files={**files, "README.md": readme}) == Severity.ERROR
    # a README deeper in the tree documents its own folder, not the project's entry
    assert cpu_severity(BUILDER, path="models/build.py", files={**files, "README.md": "# Models\n", "docs/README.md": readme}) == Severity.NOTE


def test_only_the_calls_of_the_function_itself_are_counted():
    # `ops.build_model(...)` calls another object's function, `super()._setup(...)` the base's
    other = BUILDER + "\ndef load(path, device):\n    return ops.build_model(path, device=device)\n"
    assert cpu_severity(other) == Severity.WARNING
    override = '''import torch
from framework import Strategy

class Mine(Strategy):
    def _setup(self, launcher, backend="nccl"):
        super()._setup(launcher, backend)
'''
    found = [f for f in analyze(override) if f.rule == "CDA106"]
    assert [f.targets["cpu"].severity for f in found] == [Severity.WARNING]
    private = override.replace("super()._setup(launcher, backend)", "pass\n\n    def run(self):\n        self._setup('pytorch', backend='gloo')")
    assert [f.targets["cpu"].severity for f in analyze(private) if f.rule == "CDA106"] == [Severity.NOTE]


ENCODER = '''import torch

class TextEncoder(torch.nn.Module):
    def __init__(self, version="base", freeze=True, device="cuda"):
        super().__init__()
        self.device = device

    def forward(self, tokens):
        return tokens.to(self.device)
'''


def test_a_class_a_configuration_file_builds_without_the_parameter_takes_its_default():
    """`target: models.encoders.TextEncoder` with `params` that leave `device` out builds the encoder on
    its CUDA default, on the path that loads the file: no longer a default nobody takes. A file that
    gives `device` (or Hydra's sibling key, or Lightning's `init_args`) overrides it, as a call would;
    the test suite's configurations build nothing on a user's path."""
    caller = "from models.encoders import TextEncoder\n\ndef build(device):\n    return TextEncoder(device=device)\n"
    files = {"models/__init__.py": "", "models/build.py": caller}
    assert cpu_severity(ENCODER, path="models/encoders.py", files=files) == Severity.NOTE
    configured = "model:\n  cond:\n    target: models.encoders.TextEncoder\n    params:\n      freeze: true\n"
    assert cpu_severity(ENCODER, path="models/encoders.py", files={**files, "configs/sample.yaml": configured}) == Severity.ERROR
    for given in (
        configured + "      device: cpu\n",
        "encoder:\n  _target_: models.encoders.TextEncoder\n  device: cpu\n",
        "encoder:\n  class_path: models.encoders.TextEncoder\n  init_args:\n    device: cpu\n",
    ):
        assert cpu_severity(ENCODER, path="models/encoders.py", files={**files, "configs/sample.yaml": given}) == Severity.NOTE
    hydra = "encoder:\n  _target_: models.encoders.TextEncoder\n  freeze: false\n"
    assert cpu_severity(ENCODER, path="models/encoders.py", files={**files, "configs/sample.yaml": hydra}) == Severity.ERROR
    assert cpu_severity(ENCODER, path="models/encoders.py", files={**files, "tests/configs/sample.yaml": configured}) == Severity.NOTE
    broken = configured + "  - [unclosed\n"
    assert cpu_severity(ENCODER, path="models/encoders.py", files={**files, "configs/sample.yaml": broken}) == Severity.NOTE


def test_a_class_the_configuration_names_is_built_with_what_every_dynamic_construction_gives():
    """`get_obj_from_str(cfg["target"])(model, device=device, **cfg["params"])` builds whatever class the
    configuration names with a device: the configuration's `params` need not give one, and the default
    is never taken. Where another such construction gives only the mapping (latent-diffusion's
    `instantiate_from_config`), what every one gives is the mapping alone: the default stays taken."""
    configured = "cond:\n  target: models.encoders.TextEncoder\n  params:\n    freeze: true\n"
    resolver = "import importlib\n\ndef get_obj_from_str(string):\n    module, cls = string.rsplit('.', 1)\n" \
        "    return getattr(importlib.import_module(module), cls)\n"
    build = "from util import get_obj_from_str\n\ndef build(cfg, model, device):\n" \
        "    return get_obj_from_str(cfg['cond']['target'])(model, device=device, **cfg['cond']['params'])\n"
    files = {"models/__init__.py": "", "util.py": resolver, "run.py": build, "configs/a.yaml": configured}
    assert cpu_severity(ENCODER, path="models/encoders.py", files=files) == Severity.NOTE
    plain = "from util import get_obj_from_str\n\ndef instantiate(config):\n" \
        "    return get_obj_from_str(config.target)(**config.get('params', dict()))\n"
    assert cpu_severity(ENCODER, path="models/encoders.py", files={**files, "plain.py": plain}) == Severity.ERROR
    unrelated = {**files, "run.py": build.replace("['target']", "['name']")}
    assert cpu_severity(ENCODER, path="models/encoders.py", files=unrelated) == Severity.ERROR


def test_a_call_in_a_library_modules_self_test_block_is_another_path():
    """A module other modules import is a library: its `if __name__ == "__main__":` block runs only
    when a developer runs the file by hand. A call there that leaves the device out takes the default
    on that path, a warning, where the project's own callers all pass one; the same call in a script
    nothing imports is what running the script does, an error."""
    passing = "from models.build import build_model\n\ndef train(cfg, device):\n    return build_model(cfg, device=device)\n"
    files = {"models/__init__.py": "", "models/train.py": passing}
    assert cpu_severity(BUILDER, path="models/build.py", files=files) == Severity.NOTE
    self_test = (
        "from models.build import build_model\n\ndef helper(x):\n    return x\n\n"
        "if __name__ == '__main__':\n    # a smoke test\n    model = build_model('small.yaml')\n    print(model)\n"
    )
    library = {**files, "models/utils.py": self_test, "models/eval.py": "from models.utils import helper\n"}
    assert cpu_severity(BUILDER, path="models/build.py", files=library) == Severity.WARNING
    script = {**files, "run_small.py": self_test}
    assert cpu_severity(BUILDER, path="models/build.py", files=script) == Severity.ERROR
    after_block = self_test + "\nbuild_model('other.yaml')\n"  # a top-level call after the block runs on import
    assert cpu_severity(BUILDER, path="models/build.py", files={**library, "models/utils.py": after_block}) == Severity.ERROR


def test_a_default_only_a_library_modules_own_self_test_block_takes_is_another_path():
    """`get_features(text, device="cuda")` whose module other modules import, called without a device
    only in its own `if __name__ == "__main__":` block: a developer's check of the file, another path
    (a warning); the same module run as a script nothing imports takes the default on its normal path."""
    code = BUILDER + "\n\nif __name__ == '__main__':\n    print(build_model('small.yaml'))\n"
    library = {"models/__init__.py": "", "models/train.py": "from models.build import build_model\n"}
    assert cpu_severity(code, path="models/build.py", files=library) == Severity.WARNING
    assert cpu_severity(code, path="build.py", files={"README.md": "Run `python build.py`.\n"}) == Severity.ERROR


def test_a_package_below_a_namespace_folder_is_imported_by_its_full_name():
    """`proj/models/` with an `__init__.py` under a `proj/` without one (PEP 420) is imported as
    `proj.models` from the checkout's root: those imports are its calls too."""
    leaving_out = "from proj.models.build import build_model\nmodel = build_model('small.yaml')\n"
    passing = "from proj.models.build import build_model\nmodel = build_model('small.yaml', device='cpu')\n"
    files = {"proj/models/__init__.py": ""}
    assert cpu_severity(BUILDER, path="proj/models/build.py", files={**files, "train.py": passing}) == Severity.NOTE
    assert cpu_severity(BUILDER, path="proj/models/build.py", files={**files, "train.py": leaving_out}) == Severity.ERROR


def test_a_call_through_the_module_object_is_a_call_of_the_function():
    loop = "import torch\n\n# the loop\ndef run(steps=10,  # how long\n        device=torch.device('cuda')):\n    return torch.zeros(steps, device=device)\n"
    passing = "from training import loop\n\ndef main(d):\n    loop.run(steps=3, device=d)\n"
    files = {"training/__init__.py": "", "train.py": passing}
    assert cpu_severity(loop, path="training/loop.py", files=files) == Severity.NOTE
    for caller in (
        "from training import loop\n\ndef main():\n    loop.run(steps=3)\n",
        "import training.loop as lp\n\ndef main():\n    lp.run()\n",
        "import training.loop\n\ndef main():\n    training.loop.run(4)\n",
    ):
        assert cpu_severity(loop, path="training/loop.py", files={**files, "train.py": caller}) == Severity.ERROR, caller
    # a function named as its module: `from training import run` binds the module `training/run.py`
    named = {"training/__init__.py": "", "train.py": "from training import run\n\ndef main():\n    run.run()\n"}
    assert cpu_severity(loop, path="training/run.py", files=named) == Severity.ERROR


def test_a_call_through_the_package_object_is_a_call_of_the_name_it_re_exports():
    """`import vision` then `vision.Tracker(device=d)`: the package's `__init__.py` re-exports the
    class of `vision/tracker.py`, so every construction seen passes a device."""
    tracker = "import torch\n\nclass Tracker:\n    def __init__(self, size=4, device='cuda'):\n        self.box = torch.zeros(size, device=device)\n"
    files = {"vision/__init__.py": "from .tracker import Tracker\n"}
    for caller, severity in (
        ("import vision\n\ndef main(d):\n    return vision.Tracker(size=2, device=d)\n", Severity.NOTE),
        ("import vision\n\ndef main():\n    return vision.Tracker(size=2)\n", Severity.ERROR),
    ):
        assert cpu_severity(tracker, path="vision/tracker.py", files={**files, "track.py": caller}) == severity, caller


def test_a_record_of_spelled_keys_passes_those_keys_alone():
    loop = "import torch\n\ndef run(steps=10, seed=0, device=torch.device('cuda')):\n    return torch.zeros(steps, device=device)\n"
    caller = (
        "import json\nfrom training import loop\n\n"
        "def main(n):\n    c = EasyDict(steps=n)\n    c.seed = 1\n    c.update(steps=n + 1)\n    print(json.dumps(c))\n    loop.run(**c)\n"
    )
    files = {"training/__init__.py": "", "train.py": caller}
    assert cpu_severity(loop, path="training/loop.py", files=files) == Severity.ERROR
    given = caller.replace("    c.seed = 1\n", "    c.seed = 1\n    c['device'] = 'cpu'\n")
    assert cpu_severity(loop, path="training/loop.py", files={**files, "train.py": given}) == Severity.NOTE
    # a record filled by another function, or from another mapping, or one a function returns, may pass anything
    for old, unknown in (
        ("    c.seed = 1\n", "    fill(c)\n"),
        ("    c.seed = 1\n", "    c.update(other)\n"),
        ("    c.seed = 1\n", "    c[key] = 1\n"),
        ("EasyDict(steps=n)", "load_options(steps=n)"),
    ):
        changed = caller.replace(old, unknown)
        assert cpu_severity(loop, path="training/loop.py", files={**files, "train.py": changed}) == Severity.NOTE, unknown


def test_a_tensor_built_in_place_of_a_none_parameter_is_judged_as_its_default():
    lib = "import torch\n\ndef render(x, background=None):\n    if background is None:\n        background = torch.zeros(4, dtype=torch.float32, device='cuda')\n    return x + background\n"
    omitting = "from lib import render\n\ndef main(x):\n    return render(x)\n"
    assert cpu_severity(lib, path="lib.py", files={"train.py": omitting}) == Severity.ERROR
    giving = "from lib import render\n\ndef main(x, bg):\n    return render(x, bg)\n"
    assert cpu_severity(lib, path="lib.py", files={"train.py": giving}) == Severity.NOTE
    # None given by name is the None default itself; for a CUDA default it is a value
    passing_none = "from lib import render\n\ndef main(x):\n    return render(x, background=None)\n"
    assert cpu_severity(lib, path="lib.py", files={"train.py": passing_none}) == Severity.ERROR
    assert cpu_severity(BUILDER, path="build.py", files={"train.py": "from build import build_model\nbuild_model(1, device=None)\n"}) == Severity.NOTE


TAGGER = '''import torch

class Tagger:
    def __init__(self, device="cuda"):
        self.device = device

    def tag(self, frames):
        return torch.nn.Linear(8, 2).to(self.device)(frames.to(self.device))

    def strip(self, frames, text):
        if "<" not in text:
            return frames
        return frames[..., : int(self.tag(frames).sum())]


def speak(text):
    return Tagger().strip(torch.zeros(1, 8), text)
'''


def test_a_default_read_only_past_a_return_for_inputs_without_a_marker_is_another_path():
    """A constructor's CUDA default that its class reads only in a method called past `if "<" not in
    text: return frames` is used only for inputs written with that marker (an input syntax a user opts
    in to): another path, a CPU warning. Called before the test, or past a test that is no marker's,
    or the attribute read in the method that tests, it is on every run: the error stays."""
    assert cpu_severity(TAGGER) == Severity.WARNING
    before = TAGGER.replace('        if "<" not in text:\n', '        self.tag(frames)\n        if "<" not in text:\n')
    assert cpu_severity(before) == Severity.ERROR
    assert cpu_severity(TAGGER.replace('"<" not in text', "not text")) == Severity.ERROR
    assert cpu_severity(TAGGER.replace("            return frames\n", "            return frames.to(self.device)\n")) == Severity.ERROR
