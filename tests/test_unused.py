"""Top-level functions nothing names run on no target (`unused.py`), read alone and through a scan."""

from __future__ import annotations

import ast

from cudaudit.model import Severity
from support import analyze

SCRIPT = """
import torch

def run():
    return torch.ones(1)

def on_gpu():
    return torch.ones(1, device="cuda")

def only_on_gpu_calls():
    return on_gpu()

if __name__ == "__main__":
    run()
    # only_on_gpu_calls()
"""


def unused(code: str, script: bool = False, elsewhere: dict[str, object] | None = None) -> set[str]:
    from cudaudit.rules.python.unused import never_called

    tree = ast.parse(code)
    tops = {id(statement) for statement in tree.body}
    dead = never_called(tree, code, tops, script, elsewhere or {})
    return {statement.name for statement in tree.body if id(statement) in dead}  # type: ignore[attr-defined]


def test_a_scripts_functions_that_only_a_comment_or_each_other_name_are_unused():
    assert unused(SCRIPT, script=True) == {"on_gpu", "only_on_gpu_calls"}
    assert unused(SCRIPT.replace("# only", "only"), script=True) == set()
    collected = SCRIPT.replace("def only_on_gpu_calls", "def test_on_gpu").replace("# only_on_gpu_calls()", "pytest.main()")
    assert unused(collected, script=True) == set()  # pytest calls `test_on_gpu`, and it calls `on_gpu`


def test_functions_that_only_name_each_other_or_a_docstring_names_run_nowhere():
    looped = SCRIPT.replace("return torch.ones(1, device=\"cuda\")", "return only_on_gpu_calls()")
    assert unused(looped, script=True) == {"on_gpu", "only_on_gpu_calls"}
    documented = SCRIPT + '\n@profiled\ndef reference():\n    """A slow reference of `on_gpu()`."""\n    return 1\n'
    assert unused(documented, script=True) == {"on_gpu", "only_on_gpu_calls"}
    assert unused(documented.replace('"""A slow reference of `on_gpu()`."""', "return on_gpu()"), script=True) == {"only_on_gpu_calls"}


def test_a_library_keeps_its_public_functions_and_drops_private_ones_no_module_mentions():
    code = SCRIPT.replace("def on_gpu", "def _on_gpu").replace("return on_gpu", "return _on_gpu")
    assert unused(code) == set()  # nothing known of the other modules
    assert unused(code, elsewhere={"_on_gpu": ()}) == set()  # a public function names it
    private = code.replace("only_on_gpu_calls", "_only_on_gpu_calls")
    assert unused(private, elsewhere={"_on_gpu": (), "_only_on_gpu_calls": ()}) == {"_on_gpu", "_only_on_gpu_calls"}
    assert unused(private, elsewhere={"_on_gpu": (), "_only_on_gpu_calls": None}) == set()  # another module mentions it


def test_a_mention_in_a_string_a_decorator_or_a_lookup_by_name_keeps_a_function():
    assert unused(SCRIPT + '\n__all__ = ["on_gpu", "only_on_gpu_calls"]\n', script=True) == set()
    assert unused(SCRIPT.replace("def only_on", "@register\ndef only_on"), script=True) == set()
    assert unused(SCRIPT + "\nimport fire\nfire.Fire()\n", script=True) == set()
    assert unused(SCRIPT + "\nTASKS = globals()\n", script=True) == set()
    assert unused(SCRIPT + "\nimport sys\nME = sys.modules[__name__]\n", script=True) == set()
    assert unused(SCRIPT + "\ndef __getattr__(name):\n    return name\n", script=True) == set()
    method = "\nclass Lazy:\n    def __getattr__(self, name):\n        return name\n"
    assert unused(SCRIPT + method, script=True) == {"on_gpu", "only_on_gpu_calls"}  # a class's, not the module's


def test_what_a_scan_finds_in_an_unused_private_function_is_left_out_and_its_callers_guard_stays_read():
    files = {"README.md": "Kit.\n", "kit/__init__.py": "from .ops import scale\n"}
    code = '''
import torch

def _to_gpu(x):
    return x.to("cuda")

def _stage(x):
    return torch.empty_like(x, device="cuda")

def scale(x):
    return _stage(x) * 2
'''
    found = {(f.span.line, f.severity) for f in analyze(code, path="kit/ops.py", files=files)}
    assert (5, Severity.NOTE) in found  # `_to_gpu`: nothing names it
    assert (8, Severity.ERROR) in found  # `_stage`: `scale`, the package's API, calls it
    elsewhere = {**files, "kit/run.py": "from kit.ops import _to_gpu\n\nmoved = _to_gpu(x)\n"}
    assert (5, Severity.ERROR) in {(f.span.line, f.severity) for f in analyze(code, path="kit/ops.py", files=elsewhere)}


TRAINING_SCRIPT = '''
import torch


def get_model():
    return torch.nn.Linear(2, 2)


def find_long(lengths):
    return torch.tensor(lengths, device="cuda:0")


if __name__ == "__main__":
    model = get_model()
    settings = vars(ARGS)  # an object's attributes, not the module's names
    # find_long([3, 4])
'''


def test_a_function_of_a_loose_script_that_its_importers_do_not_import_is_unused():
    exporting = "from train import get_model\n\nif __name__ == '__main__':\n    get_model()\n"
    files = {"README.md": "Recipe.\n", "recipe/export.py": exporting}
    found = {f.span.line: f.severity for f in analyze(TRAINING_SCRIPT, path="recipe/train.py", files=files)}
    assert found[10] == Severity.NOTE  # `find_long`: its one call is commented out, and export.py imports only get_model
    # imported by name elsewhere, the module itself handed on, or a package's module: its functions keep their verdicts
    borrowing = {**files, "recipe/debug.py": "from train import find_long\n\nfind_long([1])\n"}
    whole = {**files, "recipe/debug.py": "import train\n\nsteps = vars(train)\n"}
    packaged = {"README.md": "Recipe.\n", "recipe/__init__.py": "", "recipe/export.py": exporting.replace("from train", "from recipe.train")}
    for project in (borrowing, whole, packaged):
        found = {f.span.line: f.severity for f in analyze(TRAINING_SCRIPT, path="recipe/train.py", files=project)}
        assert found[10] == Severity.ERROR, project
    from cudaudit.rules.python.unused import runs_by_name

    assert runs_by_name("names = vars()\n") and runs_by_name("step = globals()[name]\n")


def test_a_loose_script_imported_whole_gives_away_only_the_attributes_read_and_test_is_no_test_outside_tests():
    script = TRAINING_SCRIPT.replace("def find_long(", "def test(")
    reading = "import train\n\nif __name__ == '__main__':\n    model = train.get_model()\n"
    files = {"README.md": "Recipe.\n", "recipe/export.py": reading}
    found = {f.span.line: f.severity for f in analyze(script, path="recipe/train.py", files=files)}
    assert found[10] == Severity.NOTE  # `test`: export.py reads only train.get_model; no test runner collects train.py
    handed = {**files, "recipe/export.py": reading + "    run(train)\n"}  # the module itself handed on
    found = {f.span.line: f.severity for f in analyze(script, path="recipe/train.py", files=handed)}
    assert found[10] == Severity.ERROR
    assert {f.span.line: f.severity for f in analyze(script, path="tests/test_train.py", files=files)}.get(10) != Severity.NOTE


KERNELS = '''
import triton


@triton.jit
def _scale_kernel(x_ptr, n):
    pass


@triton.autotune(configs=[], key=["n"])
@triton.jit
def _scale_kernel_draft(x_ptr, n):
    pass


def _scale_draft(x):
    _scale_kernel_draft[(1,)](x, x.numel())


def scale(x):
    _scale_kernel[(1,)](x, x.numel())
    return x
'''


def test_a_kernel_only_an_unused_launcher_launches_is_unused_and_one_the_api_launches_is_kept():
    files = {"README.md": "Kit.\n", "kit/__init__.py": "from .scale import scale\n"}
    found = {(f.span.line, f.severity) for f in analyze(KERNELS, path="kit/scale.py", files=files)}
    assert found == {(5, Severity.ERROR), (10, Severity.NOTE), (11, Severity.NOTE)}
    launched = KERNELS.replace("    return x\n", "    return _scale_draft(x)\n")
    found = {(f.span.line, f.severity) for f in analyze(launched, path="kit/scale.py", files=files)}
    assert found == {(5, Severity.ERROR), (10, Severity.ERROR), (11, Severity.ERROR)}
    registered = KERNELS.replace("@triton.autotune", "@register\n@triton.autotune")
    found = {(f.span.line, f.severity) for f in analyze(registered, path="kit/scale.py", files=files)}
    assert found == {(5, Severity.ERROR), (11, Severity.ERROR), (12, Severity.ERROR)}  # the decorator may launch it


def test_a_custom_operator_nothing_names_is_kept_for_the_operator_is_called_by_its_name():
    code = '''
import torch


@torch.library.custom_op("kit::scale", mutates_args=(), device_types="cuda")
def _scale_op(x: torch.Tensor) -> torch.Tensor:
    return x * 2


def scale(x):
    return torch.ops.kit.scale(x)
'''
    files = {"README.md": "Kit.\n", "kit/__init__.py": "from .scale import scale\n"}
    found = {(f.span.line, f.severity) for f in analyze(code, path="kit/scale.py", files=files)}
    assert found == {(5, Severity.WARNING)}  # a CPU tensor finds no kernel for the operator
