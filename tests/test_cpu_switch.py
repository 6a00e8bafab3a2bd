"""A program's CPU switch (`--cpu` handed on as `cpu=opt.cpu`): both arms of a test of it were written
with the CPU in mind (`names.ImportTable.cpu_switches`, read by `guards.probes_in`), and a handler for the
CUDA allocator's out-of-memory error runs only on a CUDA device (`regions.handler_region`)."""

from __future__ import annotations

from cudaudit.rules.python.cpu_handed import cpu_parameters, handed_switches
from cudaudit.rules.python.project_calls import from_imports
from support import scan_json, write

DEMO = '''
import argparse
import torch


def load_checkpoints(path, cpu=False):
    generator = torch.nn.Linear(2, 2)
    if not cpu:
        generator.cuda()
    if cpu:
        state = torch.load(path, map_location=torch.device("cpu"))
    else:
        state = torch.load(path)
    generator.load_state_dict(state)
    device = "cpu" if cpu else "cuda"
    return generator, device


def offload(model, cpu_offload=False):
    if not cpu_offload:
        model.cuda()
    return model


def run(model, frames):
    try:
        return model(frames)
    except torch.cuda.OutOfMemoryError:
        torch.cuda.synchronize()
        raise


def run_any(model, frames):
    try:
        return model(frames)
    except (torch.cuda.OutOfMemoryError, RuntimeError):
        torch.cuda.synchronize()
        raise


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu", dest="cpu", action="store_true", help="cpu mode.")
    opt = parser.parse_args()
    generator, _ = load_checkpoints("vox.pth", cpu=opt.cpu)
    offload(generator)
    run(generator, None)
    run_any(generator, None)
'''


EXPECTED = {
    9: "note",  # generator.cuda() under `if not cpu:`: the GPU arm of the switch
    13: "note",  # torch.load(path) in the else of `if cpu:`
    15: "note",  # the CUDA arm of `"cpu" if cpu else "cuda"`
    21: "error",  # `cpu_offload` names a part of the CPU, no switch: the GPU route is the normal path
    29: "note",  # a handler of the CUDA allocator's error runs only on a CUDA device
    37: "error",  # a handler that catches RuntimeError runs on a CPU too
}


def test_cpu_switch_arms(cli, tmp_path):
    write(tmp_path / "demo.py", DEMO)
    report = scan_json(cli, ".", "--no-cache", "--show-portable", cwd=tmp_path)
    found = {f["line"]: f["targets"]["cpu"]["severity"] for f in report["findings"] if "cpu" in f["targets"]}
    assert {line: found.get(line) for line in EXPECTED} == EXPECTED


RUNNER = '''
import torch


def load(path, cpu=False):
    model = torch.load(path)
    if not cpu:
        model.cuda()
    return model
'''


def test_a_switch_nothing_turns_on_keeps_the_gpu_route(cli, tmp_path):
    """`cpu=False` that no option hands a value: every run takes the GPU arm, a CPU's too."""
    write(tmp_path / "runner.py", RUNNER)
    write(tmp_path / "app.py", "from runner import load\n\nif __name__ == '__main__':\n    load('b.pt')\n")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    assert [(f["line"], f["targets"]["cpu"]["severity"]) for f in report["findings"] if f["rule"] == "CDA102"] == [(8, "error")]


SCRIPT = '''
import argparse

from runner import load

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu", action="store_true", help="cpu mode.")
    opt = parser.parse_args()
    load("b.pt", cpu=opt.cpu)
'''


def test_a_switch_handed_to_another_module_is_a_cpu_test_there(cli, tmp_path):
    """`load("b.pt", cpu=opt.cpu)` from a script with `--cpu`: `if not cpu:` in the module that defines
    `load` is the switch's GPU arm (`cpu_handed.py`)."""
    write(tmp_path / "runner.py", RUNNER)
    write(tmp_path / "app.py", SCRIPT)
    report = scan_json(cli, ".", "--no-cache", "--show-portable", cwd=tmp_path)
    found = [(f["line"], f["targets"]["cpu"]["severity"]) for f in report["findings"] if f["rule"] == "CDA102"]
    assert found == [(8, "note")]


def test_handed_switches_and_the_parameters_they_reach():
    assert handed_switches(SCRIPT.encode()) == (("load", "cpu"),)
    assert handed_switches(b"import torch\nx = t.cpu()\n") == ()
    code = {
        "app.py": lambda: SCRIPT.encode(),
        "runner.py": lambda: RUNNER.encode(),
        "tests/test_runner.py": lambda: RUNNER.encode(),
        "archive/loader.py": lambda: RUNNER.encode(),  # the same name in a module the script does not import
    }
    imports = {"app.py": from_imports(SCRIPT.encode())}
    assert cpu_parameters({"app.py": (("load", "cpu"),)}, code, imports) == {"runner.py": frozenset({"cpu"})}
    assert cpu_parameters({"app.py": (("load", "device"),)}, code, imports) == {}


def test_a_switch_reaches_a_function_through_its_module():
    """`runner.load(path, cpu=opt.cpu)` after `import runner`: the module's function; `self.load(...)`
    names no module the script imports."""
    script = SCRIPT.replace("from runner import load", "import runner").replace('load("b.pt"', 'runner.load("b.pt"')
    assert handed_switches(script.encode()) == (("runner.load", "cpu"),)
    code = {"app.py": lambda: script.encode(), "runner.py": lambda: RUNNER.encode(), "loader.py": lambda: RUNNER.encode()}
    imports = {"app.py": from_imports(script.encode())}
    assert cpu_parameters({"app.py": (("runner.load", "cpu"),)}, code, imports) == {"runner.py": frozenset({"cpu"})}
    assert cpu_parameters({"app.py": (("self.load", "cpu"),)}, code, imports) == {}


def test_a_switch_handed_to_a_same_named_function_elsewhere_is_none(cli, tmp_path):
    """`load(path, cpu=opt.cpu)` of the script's own `runner`: `archive/loader.py`'s `load`, which nothing
    imports, keeps the GPU route of its `if not cpu:`."""
    write(tmp_path / "runner.py", RUNNER)
    write(tmp_path / "app.py", SCRIPT)
    write(tmp_path / "archive" / "__init__.py", "")
    write(tmp_path / "archive" / "loader.py", RUNNER)
    write(tmp_path / "archive" / "run_old.py", "from archive.loader import load\n\nif __name__ == '__main__':\n    load('a.pt')\n")
    report = scan_json(cli, ".", "--no-cache", "--show-portable", cwd=tmp_path)
    found = sorted(
        (f["path"].rpartition("/")[2], f["line"], f["targets"]["cpu"]["severity"]) for f in report["findings"] if f["rule"] == "CDA102"
    )
    assert found == [("loader.py", 8, "error"), ("runner.py", 8, "note")]


def test_a_switch_handed_to_a_method_of_a_built_object_names_no_function():
    """`Loader().load(path, cpu=opt.cpu)`, `get_loader().load(...)`: a method of an object, whose class
    the script does not say; not the `load` its `from runner import load` binds."""
    for call in ('Loader().load("b.pt"', 'get_loader().load("b.pt"'):
        script = SCRIPT.replace('load("b.pt"', call)
        assert handed_switches(script.encode()) == ()
