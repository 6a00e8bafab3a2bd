"""Files under a developer benchmark folder outside the project's packages (`project_index._developer_folders`)."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze

TIMING = "import torch\n\ndevice = torch.device('cuda')\ntorch.cuda.synchronize()\n"
PACKAGE = {"kit/__init__.py": "", "kit/ops.py": "def scale(x):\n    return x * 2\n", "README.md": "# kit\n"}


def severities(path: str, code: str, files: dict[str, str]) -> set[Severity]:
    return {finding.severity for finding in analyze(code, path=path, files=files)}


def test_a_benchmark_beside_the_package_is_another_path():
    assert severities("benchmarks/time_scale.py", TIMING, PACKAGE) == {Severity.WARNING}
    assert severities("examples/bench/kernels/time_scale.py", TIMING, PACKAGE) == {Severity.WARNING}


def test_its_requirements_are_another_path_too():
    assert severities("requirements.txt", "pynvml\n", PACKAGE) == {Severity.ERROR}
    assert severities("benchmarks/requirements.txt", "pynvml\n", PACKAGE) == {Severity.WARNING}


def test_a_package_module_named_benchmark_and_the_library_keep_their_errors():
    files = {**PACKAGE, "kit/benchmarks/__init__.py": ""}
    assert Severity.ERROR in severities("kit/benchmarks/timer.py", TIMING, files)
    assert Severity.ERROR in severities("kit/timing.py", TIMING, PACKAGE)


def test_only_folders_below_the_project_count():
    files = {f"bench/proj/{path}": text for path, text in PACKAGE.items()}
    assert Severity.ERROR in severities("bench/proj/kit/timing.py", TIMING, files)
