"""Files under a developer folder outside the project's packages (`developer_folders.developer_files`)."""

from __future__ import annotations

from cudaudit.model import Severity
from support import analyze

TIMING = "import torch\n\ndevice = torch.device('cuda')\ntorch.cuda.synchronize(device)\n"
PACKAGE = {"kit/__init__.py": "", "kit/ops.py": "def scale(x):\n    return x * 2\n", "README.md": "# kit\n"}


def severities(path: str, code: str, files: dict[str, str]) -> set[Severity]:
    return {finding.severity for finding in analyze(code, path=path, files=files)}


def test_a_benchmark_beside_the_package_is_another_path():
    assert severities("benchmarks/time_scale.py", TIMING, PACKAGE) == {Severity.WARNING}
    assert severities("examples/bench/kernels/time_scale.py", TIMING, PACKAGE) == {Severity.WARNING}


def test_its_requirements_are_another_path_too():
    assert severities("requirements.txt", "cupy-cuda12x\n", PACKAGE) == {Severity.ERROR}
    assert severities("benchmarks/requirements.txt", "cupy-cuda12x\n", PACKAGE) == {Severity.WARNING}


def test_a_package_benchmark_module_the_library_imports_and_the_library_keep_their_errors():
    files = {**PACKAGE, "kit/benchmarks/__init__.py": "", "kit/api.py": "from kit.benchmarks.timer import clock\n"}
    assert Severity.ERROR in severities("kit/benchmarks/timer.py", TIMING, files)
    assert Severity.ERROR in severities("kit/timing.py", TIMING, PACKAGE)


def test_a_package_benchmarks_folder_nothing_outside_imports_is_another_path():
    files = {**PACKAGE, "kit/benchmarks/__init__.py": "", "kit/benchmarks/common.py": "def clock():\n    return 0\n"}
    assert severities("kit/benchmarks/timer.py", "from kit.benchmarks.common import clock\n" + TIMING, files) == {Severity.WARNING}


def test_only_folders_below_the_project_count():
    files = {f"bench/proj/{path}": text for path, text in PACKAGE.items()}
    assert Severity.ERROR in severities("bench/proj/kit/timing.py", TIMING, files)


def test_a_maintainer_script_no_document_names_is_another_path():
    assert severities("scripts/probe_memory.py", TIMING, PACKAGE) == {Severity.WARNING}
    assert severities("tools/smoke.py", TIMING, PACKAGE) == {Severity.WARNING}
    assert severities("dev/gpu_check.py", TIMING, PACKAGE) == {Severity.WARNING}


def test_a_hidden_folder_holds_the_maintainers_scripts():
    assert severities(".dev_scripts/compare_speed.py", TIMING, PACKAGE) == {Severity.WARNING}
    assert severities(".ci/helpers/gpu_probe.py", TIMING, PACKAGE) == {Severity.WARNING}
    readme = {**PACKAGE, "README.md": "# kit\n\n    python .dev_scripts/convert.py ckpt\n"}
    assert Severity.ERROR in severities(".dev_scripts/convert.py", TIMING, readme)
    assert Severity.ERROR in severities("kit/timing.py", TIMING, PACKAGE)


def test_a_script_the_readme_tells_users_to_run_keeps_its_errors():
    readme = {**PACKAGE, "README.md": "# kit\n\n    python scripts/train.py --steps 10\n"}
    assert Severity.ERROR in severities("scripts/train.py", TIMING, readme)
    assert severities("scripts/probe_memory.py", TIMING, readme) == {Severity.WARNING}
    module = {**PACKAGE, "docs/usage.rst": "Run ``python -m tools.convert``.\n"}
    assert Severity.ERROR in severities("tools/convert.py", TIMING, module)


def test_a_sub_project_document_names_its_scripts_from_its_own_folder():
    files = {**PACKAGE, "examples/video/README.md": "python scripts/extract.py --type 2d\n"}
    assert Severity.ERROR in severities("examples/video/scripts/extract.py", TIMING, files)


def test_the_folder_readme_names_its_scripts_by_their_own_names():
    files = {**PACKAGE, "tools/README.md": "* `export.py`: write the model out\n"}
    assert Severity.ERROR in severities("tools/export.py", TIMING, files)
    assert severities("tools/lint.py", TIMING, files) == {Severity.WARNING}


def test_the_helpers_a_named_script_imports_from_beside_it_keep_their_errors():
    files = {
        **PACKAGE, "README.md": "python scripts/train.py\n",
        "scripts/train.py": "from loaders import make_loader\n\nmake_loader()\n",
    }
    assert Severity.ERROR in severities("scripts/loaders.py", TIMING, files)


def test_without_the_project_documents_no_script_is_judged():
    files = {"kit/__init__.py": "", "kit/ops.py": "def scale(x):\n    return x * 2\n"}
    assert Severity.ERROR in severities("scripts/probe_memory.py", TIMING, files)


def test_a_package_scripts_module_keeps_its_errors():
    files = {**PACKAGE, "kit/scripts/__init__.py": ""}
    assert Severity.ERROR in severities("kit/scripts/probe_memory.py", TIMING, files)


DOCUMENTED_ROOT = {"README.md": "# demo\n\n    python infer.py --cfg configs/a.yaml\n", "configs/a.yaml": "task: a\n"}


def test_a_developer_named_package_the_documented_root_script_imports_is_the_projects_code():
    files = {
        **DOCUMENTED_ROOT, "tools/__init__.py": "", "tools/engine/__init__.py": "",
        "infer.py": "from tools.engine.runner import run\n\nrun()\n",
    }
    assert severities("tools/engine/runner.py", TIMING, files) == {Severity.ERROR}


def test_star_imports_carry_the_normal_path_through_the_folder():
    files = {
        **DOCUMENTED_ROOT, "tools/__init__.py": "from .models import *\n",
        "tools/models/__init__.py": "from .unet import *\n",
        "infer.py": "from tools import *\n\nbuild(cfg.model)\n",
    }
    assert severities("tools/models/unet.py", TIMING, files) == {Severity.ERROR}


def test_a_developer_folder_only_other_developer_scripts_import_keeps_the_cap():
    files = {
        **DOCUMENTED_ROOT, "infer.py": "import torch\n", "tools/__init__.py": "",
        "benchmarks/time_probe.py": "from tools.probe import probe\n\nprobe()\n",
        "tools/smoke.py": "from tools.probe import probe\n\nprobe()\n",
    }
    assert severities("tools/probe.py", TIMING, files) == {Severity.WARNING}


def test_a_developer_folder_only_off_path_modules_import_keeps_the_cap():
    # the importer is a side script nothing names (another path itself): it does not put tools/ on
    # the normal path; the documented infer.py does
    files = {
        **DOCUMENTED_ROOT, "infer.py": "import torch\n", "tools/__init__.py": "",
        "extra/probe_demo.py": "import torch\nfrom tools.probe import probe\n\nprobe(torch.cuda.device_count())\n",
    }
    assert severities("tools/probe.py", TIMING, files) == {Severity.WARNING}
    documented = {**files, "infer.py": "from tools.probe import probe\n\nprobe()\n"}
    assert severities("tools/probe.py", TIMING, documented) == {Severity.ERROR}
