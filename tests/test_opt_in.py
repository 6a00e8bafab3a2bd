"""Definitions the project's scripts reach only through a switch that is off by default (`opt_in.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.python.opt_in import read_switches, set_in_code, settings_calls, switched_definitions, turned_on
from support import analyze, scan_json, write

SAMPLER = "import torch\n\nclass FastSampler:\n    def buffers(self, x):\n        return x.to(torch.device('cuda'))\n"
SCRIPT = """
import argparse
from samplers.fast import FastSampler
from samplers.plain import PlainSampler

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--fast", action="store_true")
    opt = parser.parse_args()
    if opt.fast:
        sampler = FastSampler()
    else:
        sampler = PlainSampler()
"""


def switched(files: dict[str, str]) -> dict[str, list[str]]:
    sources = {path: partial(str.encode, text) for path, text in files.items()}
    found = {path: read_switches(path, text.encode()) for path, text in files.items()}
    off = frozenset(n for _, declared_off, *_ in found.values() for n in declared_off)
    other = frozenset(n for _, _, declared_other, *_ in found.values() for n in declared_other)
    readings = {path: calls for path, (calls, *_) in found.items() if calls}
    for path, (_, _, _, tested, *_) in found.items():
        if path in readings:
            continue
        if calls := settings_calls(files[path].encode(), off.intersection(tested) - other):
            readings[path] = calls
    declared = (off, other)
    return {path: [name for name, _ in names] for path, names in switched_definitions(sources, readings, declared).items()}


def project(**extra: str) -> dict[str, str]:
    return {
        "samplers/__init__.py": "from .fast import (\n    FastSampler,\n)\n",
        "samplers/fast.py": SAMPLER,
        "samplers/plain.py": SAMPLER.replace("FastSampler", "PlainSampler"),
        "scripts/sample.py": SCRIPT,
        **extra,
    }


def test_a_class_every_script_builds_only_under_an_off_switch_is_switched():
    assert switched(project()) == {"samplers/fast.py": ["FastSampler"]}


def test_the_switch_is_named_as_the_evidence():
    sources = {path: partial(str.encode, text) for path, text in project().items()}
    readings = {"scripts/sample.py": read_switches("scripts/sample.py", SCRIPT.encode())[0]}
    [(name, evidence)] = switched_definitions(sources, readings)["samplers/fast.py"]
    assert (name, evidence.path, evidence.line, evidence.text) == ("FastSampler", "scripts/sample.py", 10, "if opt.fast:")


def test_one_use_elsewhere_keeps_the_class_on_the_normal_path():
    other = "from samplers import fast\n\ndef run():\n    return fast.FastSampler()\n"
    assert switched(project(**{"scripts/other.py": other})) == {}


def test_a_script_that_uses_it_outside_the_switch_too_keeps_it():
    script = SCRIPT + "\n    preview = FastSampler()\n"
    assert switched(project(**{"scripts/sample.py": script})) == {}


def test_a_switch_that_is_on_by_default_switches_nothing():
    script = SCRIPT.replace('action="store_true"', 'action="store_true", default=True')
    assert switched(project(**{"scripts/sample.py": script})) == {}


def test_the_switched_class_is_another_path_and_the_other_keeps_its_error():
    files = project()
    code = files.pop("samplers/fast.py")
    [fast] = [f for f in analyze(code, path="samplers/fast.py", files=files) if f.rule == "CDA103"]
    assert fast.severity is Severity.WARNING
    code = files.pop("samplers/plain.py")
    [plain] = [f for f in analyze(code, path="samplers/plain.py", files={**files, "samplers/fast.py": SAMPLER}) if f.rule == "CDA103"]
    assert plain.severity is Severity.ERROR


def test_a_package_that_re_exports_it_from_folders_that_are_no_packages_is_followed():
    script = SCRIPT.replace("from samplers.fast import FastSampler", "from lib.models.sample import FastSampler")
    files = {
        "lib/models/sample/__init__.py": "from .fast import FastSampler\n",
        "lib/models/sample/fast.py": SAMPLER,
        "scripts/sample.py": script,
    }
    assert switched(files) == {"lib/models/sample/fast.py": ["FastSampler"]}


ARGUMENTS = """
from dataclasses import dataclass, field

@dataclass
class TrainingArguments:
    fused: bool = field(
        default=False, metadata={"help": "fused kernels"}
    )
"""
TRAIN = """
from config import TrainingArguments
from patches.fused import enable_fused

def train(training_args: TrainingArguments):
    if training_args.fused:
        enable_fused()
"""
PATCH = "import torch\n\ndef enable_fused():\n    return torch.empty(1, device='cuda')\n"


def settings_project(**extra: str) -> dict[str, str]:
    return {"config.py": ARGUMENTS, "patches/__init__.py": "", "patches/fused.py": PATCH, "train.py": TRAIN, **extra}


def test_a_function_called_only_under_a_setting_another_module_declares_off_is_switched():
    assert switched(settings_project()) == {"patches/fused.py": ["enable_fused"]}


def test_a_setting_declared_on_by_default_anywhere_switches_nothing():
    other = "class EvalConfig:\n    fused: bool = True\n"
    assert switched(settings_project(**{"eval_config.py": other})) == {}


def test_a_setting_read_from_no_declared_argument_class_switches_nothing():
    assert switched(settings_project(**{"config.py": ARGUMENTS.replace("TrainingArguments", "Batch")})) == {}


def test_a_setting_the_project_turns_on_in_two_folders_is_the_normal_path():
    sources = {path: partial(str.encode, text) for path, text in settings_project().items()}
    configs = {
        "examples/a/run.yaml": partial(bytes, b"fused: true\n"),
        "examples/b/run.sh": partial(bytes, b"python train.py \\\n  --fused\n"),
        "examples/c/run.sh": partial(bytes, b"python train.py --fused False\n"),
    }
    assert turned_on(["fused"], configs) == {"fused"}
    assert turned_on(["fused"], {path: configs[path] for path in ("examples/a/run.yaml", "examples/c/run.sh")}) == set()
    assert read_switches("train.py", TRAIN.encode())[3] == ("fused",)
    assert settings_calls(TRAIN.encode(), ["fused"])[0][5] == "fused"
    assert sources


def test_a_same_named_function_of_another_module_does_not_keep_it():
    twin = "import torch\n\ndef enable_fused():\n    pass\n"
    run = "from patches.twin import enable_fused\n\nenable_fused()\n"
    files = settings_project(**{"patches/twin.py": twin, "run.py": run})
    assert switched(files) == {"patches/fused.py": ["enable_fused"]}


def test_a_module_imported_only_under_the_switch_is_switched_as_a_whole():
    lazy = TRAIN.replace("from patches.fused import enable_fused\n", "").replace(
        "        enable_fused()", "        from patches.fused import enable_fused\n        enable_fused()"
    )
    sources = {path: partial(str.encode, text) for path, text in settings_project(**{"train.py": lazy}).items()}
    found = {path: read_switches(path, sources[path]()) for path in sources}
    readings = {path: settings_calls(sources[path](), ["fused"]) for path in sources if found[path][3]}
    names = switched_definitions(sources, readings, (frozenset({"fused"}), frozenset()))["patches/fused.py"]
    assert [name for name, _ in names] == ["", "enable_fused"]
    assert (names[0][1].path, names[0][1].line, names[0][1].text) == ("train.py", 5, "if training_args.fused:")
    eager = switched_definitions(
        {**sources, "train.py": partial(str.encode, TRAIN)}, {"train.py": settings_calls(TRAIN.encode(), ["fused"])},
        (frozenset({"fused"}), frozenset()),
    )
    assert [name for name, _ in eager["patches/fused.py"]] == ["enable_fused"]  # imported at the top: the module runs


DEMO_HELPERS = """
import torch

def load_image(path, device="cuda"):
    return torch.load(path).to(device)

def refine(samples):
    return samples.cuda()
"""
DEMO = """
import streamlit as st
from demo.helpers import *

def run_edit(path):
    return load_image(path)

if __name__ == "__main__":
    mode = st.radio("Mode", ("generate", "edit"), 0)
    refine_too = st.checkbox("Refine?", False)
    if mode == "generate":
        out = None
    elif mode == "edit":
        out = run_edit("in.png")
    if refine_too and out is not None:
        out = refine(out)
"""


def test_a_widget_off_by_default_and_a_mode_the_default_does_not_pick_are_switches():
    calls = {call[0]: call[4] for call in read_switches("demo/app.py", DEMO.encode())[0]}
    # what the branch calls, what only those functions call, and a name the star import brings
    assert calls == {
        "run_edit": 'elif mode == "edit":',
        "load_image": 'elif mode == "edit":',
        "refine": "if refine_too and out is not None:",
    }
    files = {"demo/__init__.py": "", "demo/helpers.py": DEMO_HELPERS, "demo/app.py": DEMO}
    assert switched(files) == {"demo/helpers.py": ["load_image", "refine"]}  # app.py names no CUDA: not followed


def test_the_default_mode_and_a_ticked_widget_switch_nothing():
    default_mode = DEMO.replace('elif mode == "edit":', 'elif mode == "generate":')
    assert "run_edit" not in {call[0] for call in read_switches("demo/app.py", default_mode.encode())[0]}
    ticked = DEMO.replace('st.checkbox("Refine?", False)', 'st.checkbox("Refine?", True)')
    assert "refine" not in {call[0] for call in read_switches("demo/app.py", ticked.encode())[0]}
    picked = DEMO.replace('("generate", "edit"), 0)', '("generate", "edit"), 1)')
    assert "run_edit" not in {call[0] for call in read_switches("demo/app.py", picked.encode())[0]}


LOADER = """
import torch

def load_falcon(path):
    return torch.zeros(2).cuda()
"""
CHAT = """
import argparse
from models.loader import load_falcon

parser = argparse.ArgumentParser()
parser.add_argument("--model-type", choices=["llama", "falcon"], default="{default}")
args = parser.parse_args()
if args.model_type == "falcon":
    model = load_falcon("model.pt")
"""


def test_a_choice_the_option_does_not_start_on_is_a_switch():
    files = {"models/__init__.py": "", "models/loader.py": LOADER, "chat.py": CHAT.format(default="llama")}
    assert switched(files) == {"models/loader.py": ["load_falcon"]}
    files["chat.py"] = CHAT.format(default="falcon")  # the value it starts on: the normal path
    assert switched(files) == {}
    files["chat.py"] = CHAT.format(default="llama").replace('choices=["llama", "falcon"], ', "")
    assert switched(files) == {}  # without `choices=`, a string option is no choice among values


def test_a_chosen_setting_caps_the_branch_through_the_command_line(cli, tmp_path):
    write(tmp_path / "models" / "__init__.py", "")
    write(tmp_path / "models" / "loader.py", LOADER)
    write(tmp_path / "chat.py", CHAT.format(default="llama") + '    cache = torch.zeros(2, device="cuda")\nimport torch\n')
    report = scan_json(cli, ".", "--no-cache")
    assert {(f["path"], f["line"]): f["severity"] for f in report["findings"]} == {
        ("models/loader.py", 5): "warning",
        ("chat.py", 10): "warning",
    }
    write(tmp_path / "chat.py", CHAT.format(default="falcon") + '    cache = torch.zeros(2, device="cuda")\nimport torch\n')
    report = scan_json(cli, ".", "--no-cache")
    assert {f["severity"] for f in report["findings"]} == {"error"}


FIELD = "import torch.nn as nn\nimport {library}\n\nclass Field(nn.Module):\n    pass\n"
BACKBONES = """
import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--backbone", default="grid", choices=["grid", "fused"])
opt = parser.parse_args()
if opt.backbone == "grid":
    from nets.grid import Field
elif opt.backbone == "fused":
    from nets.fused import Field
model = Field().to(torch.device("cuda" if torch.cuda.is_available() else "cpu"))
"""


def backbones(script: str) -> dict[str, str]:
    return {
        "nets/__init__.py": "",
        "nets/grid.py": FIELD.format(library="math"),
        "nets/fused.py": FIELD.format(library="tinycudann"),
        "main.py": script,
    }


def test_a_module_only_a_choice_the_option_does_not_start_on_imports_is_switched_as_a_whole():
    # the block imports the class and calls nothing: the class is built after it, whichever arm ran
    assert switched(backbones(BACKBONES)) == {"nets/fused.py": [""]}
    assert switched(backbones(BACKBONES.replace('default="grid"', 'default="fused"'))) == {}  # the value it starts on
    eager = BACKBONES.replace("import torch\n", "import torch\nimport nets.fused\n", 1)
    assert switched(backbones(eager)) == {}  # also imported at the top: the module runs


def test_a_cuda_library_imported_by_a_module_only_an_opt_in_choice_imports_is_another_path(cli, tmp_path):
    for path, text in backbones(BACKBONES).items():
        write(tmp_path / path, text)
    report = scan_json(cli, ".", "--no-cache")
    assert [(f["path"], f["line"], f["severity"]) for f in report["findings"]] == [("nets/fused.py", 2, "warning")]
    write(tmp_path / "README.md", "```\npython main.py --backbone fused\n```\n")  # a documented command picks it
    report = scan_json(cli, ".", "--no-cache")
    assert [(f["path"], f["line"], f["severity"]) for f in report["findings"]] == [("nets/fused.py", 2, "error")]


PROFILED = """
import torch
from config import TrainingArguments

def train(cfg):
    if cfg.common.profile:
        with torch.cuda.profiler.profile():
            run(cfg)
    else:
        run(cfg)
    torch.cuda.synchronize()
"""
PROFILE_FIELD = "\n@dataclass\nclass CommonConfig:\n    profile: bool = field(default=False, metadata={'help': 'nvtx'})\n"


def test_a_block_under_a_setting_another_module_declares_off_is_another_path():
    files = settings_project(**{"config.py": ARGUMENTS + PROFILE_FIELD})
    findings = {finding.span.line: finding.severity for finding in analyze(PROFILED, path="train_profiled.py", files=files)}
    assert findings == {7: Severity.WARNING, 11: Severity.ERROR}


def test_the_block_keeps_its_error_where_the_setting_is_declared_on_elsewhere():
    on = "class EvalConfig:\n    profile: bool = True\n"
    files = settings_project(**{"config.py": ARGUMENTS + PROFILE_FIELD, "eval_config.py": on})
    findings = {finding.span.line: finding.severity for finding in analyze(PROFILED, path="train_profiled.py", files=files)}
    assert findings[7] is Severity.ERROR


def test_a_module_with_switches_of_its_own_reads_the_other_settings_too():
    own = PROFILED.replace("def train(cfg):", "@dataclass\nclass InferConfig:\n    verbose: bool = False\n\ndef train(cfg):")
    files = settings_project(**{"config.py": ARGUMENTS + PROFILE_FIELD})
    findings = {finding.span.line: finding.severity for finding in analyze(own, path="infer.py", files=files)}
    assert findings == {11: Severity.WARNING, 15: Severity.ERROR}


SECTIONS = """
from dataclasses import dataclass

@dataclass
class RunArgsLogging:
    profile: bool = False
    staged: bool = False
"""
STEPS = """
import torch

def step(run_args, it):
    if (
        run_args.profile
        and it >= 3
    ):
        torch.cuda.nvtx.range_push("backward")
    if run_args.staged:
        torch.cuda.synchronize()
    return it
"""


def test_a_section_of_an_argument_object_declares_settings_and_a_split_header_tests_one():
    findings = {finding.span.line: finding.severity for finding in analyze(STEPS, path="train_step.py", files={"arguments.py": SECTIONS})}
    assert findings == {9: Severity.WARNING, 11: Severity.WARNING}


def test_a_setting_the_code_works_out_is_no_switch():
    derived = ("run_args.update('staged', run_args.stages > 1)", "run_args.staged = run_args.stages > 1")
    for code in (f"def finish(run_args):\n    {line}\n" for line in derived):
        files = {"arguments.py": SECTIONS, "finish.py": code}
        findings = {finding.span.line: finding.severity for finding in analyze(STEPS, path="train_step.py", files=files)}
        assert findings == {9: Severity.WARNING, 11: Severity.ERROR}, code
    files = {"arguments.py": SECTIONS, "finish.py": "def finish(run_args):\n    run_args.staged = False\n"}
    findings = {finding.span.line: finding.severity for finding in analyze(STEPS, path="train_step.py", files=files)}
    assert findings[11] is Severity.WARNING


def test_set_in_code_reads_values_worked_out_from_others():
    modules = {
        "a.py": b"cfg.fused = n > 1\ncfg.quiet = False\nargs.fp8 = True\nctx.staged = staged\nconfig.verbose = value\n",
        "b.py": b'setattr(cfg, "packed", size > 0)\nself.update_value("tp", self.tp_size > 1)\nrun(verbose=True)\n',
        "c.py": b'WIDTHS = {"mode": torch.uint8}\nprint("profile", flag)\n',
    }
    names = ["fused", "quiet", "fp8", "staged", "packed", "tp", "verbose", "mode", "profile"]
    assert set_in_code(names, {path: partial(bytes, data) for path, data in modules.items()}) == {"fused", "packed", "tp"}


def test_an_environment_variable_the_user_sets_to_turn_it_on_is_another_path():
    code = """
import os
import torch

BENCH = int(os.environ.get("BENCH", 0)) == 1

def step():
    if BENCH:
        torch.cuda.synchronize()
    if os.getenv("NVTX_RANGES", "").strip().lower() in ("1", "true", "yes"):
        torch.cuda.nvtx.range_push("step")
    if os.environ.get("LOCAL_RANK") == "0":
        torch.cuda.synchronize()
    if os.environ.get("SYNC", "true") == "true":
        torch.cuda.synchronize()
"""
    findings = {finding.span.line: finding.severity for finding in analyze(code)}
    assert findings == {9: Severity.WARNING, 11: Severity.WARNING, 13: Severity.ERROR, 15: Severity.ERROR}


def test_an_environment_variable_kept_in_a_name_first_is_the_same_switch():
    """`JIT = os.getenv("JIT")`, then `if JIT == "True":`: the name holds the lookup, so its test is the
    lookup's (at module level or in a function); a name that falls back to an on value, or is
    assigned anything else too, is no switch, and its truth alone is read as the lookup's truth is
    (`if os.getenv("TRACE"):`, no switch)."""
    code = """
import os
import torch

JIT = os.getenv("MYLIB_JIT")
if JIT == "True":
    torch.cuda.synchronize()
TRACE = os.environ.get("TRACE", "").lower()
SYNC = os.environ.get("SYNC", "true")

def step(rank):
    if TRACE:
        torch.cuda.nvtx.range_push("step")
    if SYNC == "true":
        torch.cuda.synchronize()
    mode = os.getenv("MODE")
    mode = mode or "1"
    if mode == "1":
        torch.cuda.synchronize()
    level = os.getenv("LEVEL")
    for level in ("1", "2"):
        if level == "1":
            torch.cuda.synchronize()
"""
    findings = {finding.span.line: finding.severity for finding in analyze(code)}
    assert findings == {7: Severity.WARNING, 13: Severity.ERROR, 15: Severity.ERROR, 19: Severity.ERROR, 23: Severity.ERROR}


NESTED_OPTIONS = """
import argparse
import torch

parser = argparse.ArgumentParser()
parser.add_argument("--train.pack_rows", action="store_true", default=False)
args = nest_sections(parser.parse_args())
if args.train.pack_rows:
    attention = torch.zeros(1, device="cuda")
"""


def test_a_dotted_option_is_read_by_its_last_part():
    [finding] = [f for f in analyze(NESTED_OPTIONS) if f.rule == "CDA103"]
    assert finding.severity is Severity.WARNING
    on = NESTED_OPTIONS.replace('action="store_true", default=False', 'action="store_false"')
    [finding] = [f for f in analyze(on) if f.rule == "CDA103"]
    assert finding.severity is Severity.ERROR


BUFFER = """
import torch

class Buffer:
    def fill(self, rows):
        return torch.tensor(rows, device=torch.cuda.current_device())

    def plan_batches(self, sizes):
        return torch.tensor(sizes, device=torch.cuda.current_device())
"""
WORKER = """
class Worker:
    def __init__(self, args, buffer):
        self.args = args
        self.buffer = buffer

    def step(self, rows):
        self.buffer.fill(rows)
        if self.args.train.dynamic_batches:
            self.buffer.plan_batches([len(rows)])
"""
OPTIONS = 'import argparse\n\nparser = argparse.ArgumentParser()\nparser.add_argument("--train.dynamic_batches", action="store_true")\n'


def test_a_method_called_only_under_an_off_setting_is_switched():
    files = {"pkg/__init__.py": "", "pkg/buffer.py": BUFFER, "pkg/worker.py": WORKER, "pkg/cli.py": OPTIONS}
    assert switched(files) == {"pkg/buffer.py": ["Buffer.plan_batches"]}
    findings = {f.span.line: f.severity for f in analyze(BUFFER, path="pkg/buffer.py", files=files) if f.rule == "CDA101"}
    assert findings == {6: Severity.ERROR, 9: Severity.WARNING}


def test_a_method_called_outside_the_switch_too_or_defined_twice_keeps_its_verdicts():
    files = {"pkg/__init__.py": "", "pkg/buffer.py": BUFFER, "pkg/worker.py": WORKER, "pkg/cli.py": OPTIONS}
    elsewhere = "def warm(buffer):\n    buffer.plan_batches([1])\n"
    assert switched({**files, "pkg/warm.py": elsewhere}) == {}
    twin = "class Other:\n    def plan_batches(self, sizes):\n        return sizes\n"
    assert switched({**files, "pkg/other.py": twin}) == {}
    test = "from pkg.buffer import Buffer\n\ndef test_plan():\n    Buffer().plan_batches([1])\n"
    assert switched({**files, "tests/test_buffer.py": test}) == {"pkg/buffer.py": ["Buffer.plan_batches"]}


OFFLOAD = """
import torch

class Offloader:
    def __init__(self):
        self.stream = torch.cuda.Stream()

def _key(tensor):
    return id(tensor)

def make_offloader(model):
    return Offloader()
"""
OFFLOAD_TRAINER = """
from ..models import make_offloader

class Trainer:
    def __init__(self, args, model):
        self.args = args
        if self.args.offload_activations:
            self.offload = make_offloader(model)
"""
OFFLOAD_CONFIG = "from dataclasses import dataclass\n\n@dataclass\nclass TrainConfig:\n    offload_activations: bool = False\n"
LAZY_INIT = '_import_structure = {"offload": ["make_offloader"]}\nif TYPE_CHECKING:\n    from .offload import make_offloader\n'


def test_what_only_a_switched_factory_builds_in_its_module_is_switched_too():
    files = {
        "lib/__init__.py": "", "lib/models/__init__.py": LAZY_INIT, "lib/models/offload.py": OFFLOAD,
        "lib/trainer/__init__.py": "", "lib/trainer/sft.py": OFFLOAD_TRAINER, "lib/trainer/config.py": OFFLOAD_CONFIG,
        "tests/test_offload.py": "from lib.models.offload import Offloader\n\ndef test_it():\n    Offloader()\n",
    }
    assert switched(files) == {"lib/models/offload.py": ["make_offloader", "Offloader"]}
    used = "from lib.models.offload import Offloader\n\nDEFAULT = Offloader\n"
    assert switched({**files, "lib/defaults.py": used}) == {"lib/models/offload.py": ["make_offloader"]}


DECODE = """
import torch


def decode(model, steps, timed: bool = False):
    for step in range(steps):
        if timed and step == 0:
            torch.cuda.synchronize()
        model(step)
    torch.cuda.synchronize()
"""
GENERATE = 'import os\nfrom gen.decode import decode\n\ndecode(model, 8, timed=os.environ.get("TIME_STEPS", "0") == "1")\n'


def test_a_parameter_every_caller_gives_an_environment_switch_is_off_by_default():
    files = {"gen/__init__.py": "", "run.py": GENERATE}
    findings = {f.span.line: f.severity for f in analyze(DECODE, path="gen/decode.py", files=files)}
    assert findings == {8: Severity.WARNING, 10: Severity.ERROR}


def test_a_caller_that_turns_the_parameter_on_keeps_the_branch_on_the_normal_path():
    files = {"gen/__init__.py": "", "run.py": GENERATE, "bench.py": "from gen.decode import decode\n\ndecode(model, 8, timed=True)\n"}
    findings = {f.span.line: f.severity for f in analyze(DECODE, path="gen/decode.py", files=files)}
    assert findings == {8: Severity.ERROR, 10: Severity.ERROR}
    on = GENERATE.replace('"TIME_STEPS", "0"', '"TIME_STEPS", "1"')  # set unless the user unsets it
    findings = {f.span.line: f.severity for f in analyze(DECODE, path="gen/decode.py", files={"gen/__init__.py": "", "run.py": on})}
    assert findings == {8: Severity.ERROR, 10: Severity.ERROR}


def test_the_truth_of_a_lookup_unset_reads_false_is_a_switch_the_user_sets():
    code = """
import os
import torch

TIMED = bool(int(os.getenv("TIMED", "0")))

def step(n):
    if TIMED:
        torch.cuda.synchronize()
    if os.getenv("NVTX", "0") != "0":
        torch.cuda.nvtx.range_push("step")
    if bool(os.environ.get("TRACE")):
        torch.cuda.synchronize()
    if os.getenv("SYNC", "1") != "0":
        torch.cuda.synchronize()
    if int(os.environ.get("WORKERS", "0")):
        torch.cuda.synchronize()
    if bool(os.getenv("EAGER", "0")):
        torch.cuda.synchronize()
"""
    findings = {finding.span.line: finding.severity for finding in analyze(code)}
    assert findings == {
        9: Severity.WARNING, 11: Severity.WARNING, 13: Severity.WARNING,
        15: Severity.ERROR, 17: Severity.ERROR, 19: Severity.ERROR,  # on unless unset, a count, `bool("0")`
    }


def test_a_flag_of_a_switch_and_a_device_test_guards_both():
    code = """
import os
import torch

PROFILE = os.getenv("PROFILE", "0") == "1"

def push(name):
    enabled = PROFILE and torch.cuda.is_available()
    if not enabled:
        return
    torch.cuda.nvtx.range_push(name)

def mark(name):
    enabled = PROFILE and torch.cuda.is_available()
    if enabled:
        torch.cuda.nvtx.mark(name)
"""
    assert [f for f in analyze(code) if f.severity is not Severity.NOTE] == []


ENVIRONMENT_TABLE = """
import os

environment_variables = {
    "APP_STAGE_TIMING": lambda: bool(int(os.getenv("APP_STAGE_TIMING", "0"))),
    "APP_SYNC": lambda: os.getenv("APP_SYNC", "1") == "1",
    "APP_DEVICE": lambda: os.getenv("APP_DEVICE", "cuda"),
}


def __getattr__(name):
    if name in environment_variables:
        return environment_variables[name]()
    raise AttributeError(name)
"""
STAGE = """
import torch
import app.envs as envs
from app.envs import APP_STAGE_TIMING

def run(stage, batch):
    if envs.APP_STAGE_TIMING:
        torch.cuda.synchronize()
    if envs.APP_SYNC:
        torch.cuda.synchronize()
    if APP_STAGE_TIMING:
        torch.cuda.synchronize()
    return stage(batch)
"""


def test_a_switch_of_a_table_of_lazy_environment_lookups_is_off_where_other_modules_read_it():
    files = {"app/__init__.py": "", "app/envs.py": ENVIRONMENT_TABLE}
    findings = {f.span.line: f.severity for f in analyze(STAGE, path="app/stage.py", files=files)}
    assert findings == {8: Severity.WARNING, 10: Severity.ERROR, 12: Severity.WARNING}


def test_a_table_without_a_module_getattr_or_turned_on_by_the_scripts_keeps_the_verdicts():
    plain = ENVIRONMENT_TABLE.replace("def __getattr__(name):", "def lookup(name):")
    findings = {f.span.line: f.severity for f in analyze(STAGE, path="app/stage.py", files={"app/envs.py": plain})}
    assert findings == {8: Severity.ERROR, 10: Severity.ERROR, 12: Severity.ERROR}
    scripts = {f"examples/{name}/run.sh": "APP_STAGE_TIMING=1 python -m app.run\n" for name in ("t2v", "i2v")}
    files = {"app/__init__.py": "", "app/envs.py": ENVIRONMENT_TABLE, **scripts}
    findings = {f.span.line: f.severity for f in analyze(STAGE, path="app/stage.py", files=files)}
    assert findings == {8: Severity.ERROR, 10: Severity.ERROR, 12: Severity.ERROR}


LOADER_DEMO = """
import streamlit as st

SPECS = {
    "base": {"size": 512},
    "large": {"size": 768},
    "full": {},
}


def load(choice="base", with_prior=False):
    state = {}
    if choice == "full":
        from models.full import FullModel
        state["model"] = FullModel.build("ckpt")
        return state
    if with_prior:
        from models.prior import PriorModel
        state["prior"] = PriorModel.build("ckpt")
    return state


if __name__ == "__main__":
    choice = st.selectbox("Model", list(SPECS.keys()), 0)
    use_prior = choice == "base" and st.checkbox("Use the prior", False)
    state = load(choice=choice, with_prior=use_prior)
"""
PRIOR = "from models.base import Base\n\n\nclass PriorModel(Base):\n    def embed(self, x):\n        return x.to('cuda')\n"
FULL = "from models.base import Base\n\n\nclass FullModel(Base):\n    def embed(self, x):\n        return x.to('cuda')\n"
BASE = "class Base:\n    @classmethod\n    def build(cls, path):\n        model = cls()\n        model.cuda()\n        return model\n"


def test_a_checkbox_and_a_choice_passed_through_parameters_reach_their_models_only_when_picked():
    files = {"demo.py": LOADER_DEMO, "models/__init__.py": "", "models/prior.py": PRIOR, "models/full.py": FULL, "models/base.py": BASE}
    for path, line in (("models/prior.py", 6), ("models/full.py", 6), ("models/base.py", 5)):
        findings = {f.span.line: f.severity for f in analyze(files[path], path=path, files=files)}
        assert findings == {line: Severity.WARNING}, path


def test_a_ticked_checkbox_or_a_caller_that_picks_the_model_keeps_it_on_the_normal_path():
    ticked = LOADER_DEMO.replace('st.checkbox("Use the prior", False)', 'st.checkbox("Use the prior", True)')
    files = {"demo.py": ticked, "models/__init__.py": "", "models/prior.py": PRIOR, "models/full.py": FULL, "models/base.py": BASE}
    assert {f.span.line: f.severity for f in analyze(PRIOR, path="models/prior.py", files=files)} == {6: Severity.ERROR}
    assert {f.span.line: f.severity for f in analyze(BASE, path="models/base.py", files=files)} == {5: Severity.ERROR}
    picked = LOADER_DEMO.replace('list(SPECS.keys()), 0)', 'list(SPECS.keys()), 2)')
    files = {"demo.py": picked, "models/__init__.py": "", "models/prior.py": PRIOR, "models/full.py": FULL, "models/base.py": BASE}
    assert {f.span.line: f.severity for f in analyze(FULL, path="models/full.py", files=files)} == {6: Severity.ERROR}
    assert {f.span.line: f.severity for f in analyze(PRIOR, path="models/prior.py", files=files)} == {6: Severity.WARNING}


ENGINE_DEMO = """
import argparse
from predict import Predictor

parser = argparse.ArgumentParser()
parser.add_argument("--engine", action="store_true")
args = parser.parse_args()

if args.engine:
    engine_file = "model_engine.pth"
else:
    engine_file = None
Predictor(None, engine_file)
"""
PREDICT = """
import torch

class Predictor:
    def __init__(self, model, engine_file=None):
        if engine_file is not None:
            self.probe = torch.ones(1, 3).cuda()
        self.device = torch.ones(1).cuda()
"""


def test_a_parameter_handed_a_name_that_holds_a_value_only_under_a_flag_is_off_by_default():
    files = {"demo.py": ENGINE_DEMO}
    findings = {f.span.line: f.severity for f in analyze(PREDICT, path="predict.py", files=files)}
    assert findings == {7: Severity.WARNING, 8: Severity.ERROR}
    always = ENGINE_DEMO.replace('else:\n    engine_file = None', 'else:\n    engine_file = "model.pth"')
    findings = {f.span.line: f.severity for f in analyze(PREDICT, path="predict.py", files={"demo.py": always})}
    assert findings == {7: Severity.ERROR, 8: Severity.ERROR}


PARAM_GROUPS = '''from argparse import ArgumentParser


class ParamGroup:
    def __init__(self, parser: ArgumentParser, name: str):
        group = parser.add_argument_group(name)
        for key, value in vars(self).items():
            if type(value) == bool:
                group.add_argument("--" + key, default=value, action="store_true")
            else:
                group.add_argument("--" + key, default=value, type=type(value))


class RenderParams(ParamGroup):
    def __init__(self, parser):
        self.exact_cov = False
        self.white_background = True
        self._data_root = "data"
        super().__init__(parser, "Render")
'''
RENDERER = '''import torch


def covariance(x):
    return x @ x.T + torch.eye(3, device="cuda")


def render(x, pipe):
    if pipe.exact_cov:
        x = x + covariance(x).cuda()
    if pipe.white_background:
        x = x.cuda()
    return x
'''


def test_a_params_group_declares_a_switch_of_each_attribute_its_constructor_sets_false():
    files = {"README.md": "Run `python train.py`.\n", "arguments.py": PARAM_GROUPS, "train.py": "from renderer import render\n\nimage = render(points, pipe)\n"}
    findings = {finding.span.line: finding.severity for finding in analyze(RENDERER, path="renderer.py", files=files)}
    assert findings == {5: Severity.WARNING, 10: Severity.WARNING, 12: Severity.ERROR}
    # without the loop over `vars(self)` the attributes declare no option
    plain = {**files, "arguments.py": PARAM_GROUPS.replace("vars(self)", "self.options")}
    findings = {finding.span.line: finding.severity for finding in analyze(RENDERER, path="renderer.py", files=plain)}
    assert findings == {5: Severity.ERROR, 10: Severity.ERROR, 12: Severity.ERROR}
    # a documented command that passes the flag turns it on: the normal path
    documented = {**files, "README.md": "Run `python train.py --exact_cov`.\n"}
    findings = {finding.span.line: finding.severity for finding in analyze(RENDERER, path="renderer.py", files=documented)}
    assert findings == {5: Severity.ERROR, 10: Severity.ERROR, 12: Severity.ERROR}
