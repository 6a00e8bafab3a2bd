"""Scripts nothing in the project names are another path (`unnamed_scripts.py`)."""

from __future__ import annotations

from functools import partial
from pathlib import PurePath

from cudaudit import project_index
from cudaudit.filekinds import classify
from cudaudit.model import Severity
from cudaudit.project_index import IndexedFile, build_index
from cudaudit.rules.catalog import load_catalog
from cudaudit.rules.python.unnamed_scripts import run_scripts, unnamed_scripts
from support import analyze, scan_json, write

SCRIPT = "import torch\n\n\ndef main():\n    model = torch.nn.Linear(2, 2).cuda()\n\n\nif __name__ == '__main__':\n    main()\n"


def unnamed(candidates: list[str], files: dict[str, str]) -> set[str]:
    readers = {path: partial(str.encode, text) for path, text in files.items()}
    return set(unnamed_scripts(candidates, readers))


def test_a_script_no_other_file_names_is_unnamed_and_its_own_text_names_nothing():
    files = {"README.md": "Train with `python train.py`.\n", "train.py": SCRIPT, "tools/export_onnx.py": SCRIPT + "# export_onnx\n"}
    assert unnamed(["train.py", "tools/export_onnx.py"], files) == {"tools/export_onnx.py"}


def test_any_file_that_spells_the_name_as_a_word_names_the_script():
    base = {"README.md": "Train with `python train.py`.\n", "tools/export_onnx.py": SCRIPT}
    for naming in (
        {"scripts/export.sh": "python tools/export_onnx.py --out model.onnx\n"},
        {"Makefile": "onnx:\n\tpython -m tools.export_onnx\n"},
        {"docs/deploy.md": "Run export_onnx.py first.\n"},
        {"pyproject.toml": '[project.scripts]\nexport = "tools.export_onnx:main"\n'},
        {"tests/test_export.py": "import subprocess\nsubprocess.run(['python', 'tools/export_onnx.py'])\n"},
        {"serve.py": "from tools.export_onnx import main\n"},
    ):
        assert unnamed(["tools/export_onnx.py"], {**base, **naming}) == set(), naming


def test_the_word_alone_names_nothing_where_it_neither_runs_nor_imports_the_script():
    base = {"README.md": "Pretrain with `python pretrain/large.py`.\n", "pretrain/small.py": SCRIPT}
    for prose in (
        {"scripts/prepare_small.py": 'print("prepare small")\n'},
        {"docs/models.md": "A small model trains in an hour; see small: the config.\n"},
        {"configs/small.yaml": "width: 64\n"},
    ):
        assert unnamed(["pretrain/small.py"], {**base, **prose}) == {"pretrain/small.py"}, prose
    for naming in (
        {"run.sh": "python -m small --steps 10\n"},
        {"notebook.py": "import small\n"},
        {"setup.py": "entry_points={'console_scripts': ['small=small:main']}\n"},
    ):
        assert unnamed(["pretrain/small.py"], {**base, **naming}) == set(), naming


def test_a_longer_word_that_holds_the_name_names_nothing_and_unreadable_files_are_skipped():
    def unreadable() -> bytes:
        raise OSError("gone")

    readers = {
        "README.md": partial(str.encode, "See export_onnx_v2 and reexport_onnx.\n"),
        "broken.txt": unreadable,
        "tools/export_onnx.py": partial(str.encode, SCRIPT),
    }
    assert set(unnamed_scripts(["tools/export_onnx.py"], readers)) == {"tools/export_onnx.py"}


def test_scripts_a_tool_runs_by_their_file_name_are_never_unnamed():
    files = {"README.md": "A demo.\n", "app.py": SCRIPT, "hubconf.py": SCRIPT}
    assert unnamed(["app.py", "hubconf.py"], files) == set()


def test_a_scan_of_the_project_caps_an_unnamed_scripts_errors_at_warnings():
    files = {"README.md": "Train with `python train.py`.\n", "train.py": SCRIPT}
    found = {(f.span.line, f.severity) for f in analyze(SCRIPT, path="export_onnx.py", files=files)}
    assert found == {(5, Severity.WARNING)}
    documented = {**files, "README.md": files["README.md"] + "Export with `python export_onnx.py`.\n"}
    assert {(f.span.line, f.severity) for f in analyze(SCRIPT, path="export_onnx.py", files=documented)} == {(5, Severity.ERROR)}
    workflow = "on: push\njobs:\n  export:\n    runs-on: ubuntu-latest\n    steps:\n      - run: python export_onnx.py\n"
    run = {**files, ".github/workflows/export.yml": workflow}
    assert {(f.span.line, f.severity) for f in analyze(SCRIPT, path="export_onnx.py", files=run)} == {(5, Severity.ERROR)}
    assert {(f.span.line, f.severity) for f in analyze(SCRIPT, path="train.py", files={"README.md": files["README.md"]})} == {
        (5, Severity.ERROR)
    }


def test_only_a_file_name_a_module_run_or_an_entry_point_runs_a_module_an_import_does_not():
    base = {"README.md": "Serve with `python app.py`.\n", "pkg/scorer.py": SCRIPT, "app.py": "from pkg.scorer import main\n"}
    readers = {path: partial(str.encode, text) for path, text in base.items()}
    assert run_scripts(["pkg/scorer.py"], readers) == frozenset()
    not_runs = (
        {"configs/m.yaml": "model:\n  target: pkg.scorer.Scorer\n"},
        {"docs/api.md": "Import it: `import pkg.scorer`.\n"},
        {"run.sh": "python -m pkg.scorer.cli\n"},
    )
    for naming in not_runs:
        files = {path: partial(str.encode, text) for path, text in {**base, **naming}.items()}
        assert run_scripts(["pkg/scorer.py"], files) == frozenset(), naming
    for naming in (
        {"run.sh": "python pkg/scorer.py --text hi\n"},
        {"docs/use.md": "Run `python -m pkg.scorer hi`.\n"},
        {"pyproject.toml": '[project.scripts]\nscore = "pkg.scorer:main"\n'},
    ):
        files = {path: partial(str.encode, text) for path, text in {**base, **naming}.items()}
        assert run_scripts(["pkg/scorer.py"], files) == {"pkg/scorer.py"}, naming


EXAMPLE = "import torch\nfrom tinypkg import Net\n\nnet = Net().cuda()\nbatch = torch.randn(4, 8).cuda()\nprint(net(batch))\n"
"""An example script with no `__main__` block: its code runs at the top of the module."""


def test_an_example_beside_an_installable_package_that_nothing_names_is_another_path(cli, tmp_path):
    """A root script that imports the package a `pyproject.toml` installs, and that no document,
    script or module names: an example a user finds by hand, its `.cuda()` calls warnings. Named by
    the README, it is the normal path; without an install declaration, the root scripts are the project."""
    write(tmp_path / "pyproject.toml", '[project]\nname = "tinypkg"\nversion = "0.1"\n')
    write(tmp_path / "tinypkg/__init__.py", "import torch\n\n\nclass Net(torch.nn.Linear):\n    def __init__(self):\n        super().__init__(8, 8)\n")
    write(tmp_path / "train_toy.py", EXAMPLE)
    write(tmp_path / "README.md", "```bash\npip install tinypkg\n```\n")

    def severities() -> set[str]:
        report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
        return {f["targets"]["cpu"]["severity"] for f in report["findings"] if f["path"] == "train_toy.py"}

    assert severities() == {"warning"}
    write(tmp_path / "README.md", "```bash\npip install tinypkg\npython train_toy.py\n```\n")
    assert severities() == {"error"}
    write(tmp_path / "README.md", "```bash\npip install tinypkg\n```\n")
    (tmp_path / "pyproject.toml").unlink()
    assert severities() == {"error"}


def test_a_module_level_script_of_a_side_folder_that_nothing_names_is_another_path(cli, tmp_path):
    """A script below the project's top folder that runs at module level (no `__main__` block) and that no
    document, script or module names or imports is run only by hand: its `.cuda()` calls are warnings, as
    those of a script with a `__main__` block are. Named by the README it is the normal path. At the top
    folder it is another path too where a command runs another script there (the README's `python
    train.py`); where none does, the scripts are the project, its README telling of them in prose."""
    write(tmp_path / "README.md", "Run `python train.py`.\n")
    write(tmp_path / "train.py", SCRIPT)
    crash = "import torch\n\ndevice = torch.device('cuda:0')\nmodel = torch.nn.Linear(2, 2).to(device)\nprint(model)\n"
    write(tmp_path / "community/reproduce_crash.py", crash)

    def severities(path: str) -> set[str]:
        report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
        return {f["targets"]["cpu"]["severity"] for f in report["findings"] if f["path"] == path}

    assert severities("community/reproduce_crash.py") == {"warning"}
    write(tmp_path / "README.md", "Run `python train.py`, or `python community/reproduce_crash.py`.\n")
    assert severities("community/reproduce_crash.py") == {"error"}
    write(tmp_path / "README.md", "Run `python train.py`.\n")
    (tmp_path / "community/reproduce_crash.py").rename(tmp_path / "reproduce_crash.py")
    assert severities("reproduce_crash.py") == {"warning"}
    write(tmp_path / "README.md", "Run the training script, then the crash reproduction.\n")
    assert severities("reproduce_crash.py") == {"error"}


def test_the_side_scripts_reading_reads_a_top_folder_script_only_where_a_command_runs_another_there(monkeypatch):
    """Whether a top-folder module runs at its top level is read only where a command of the project runs
    another script of that folder: where none does, the folder's scripts are the project and none is a
    candidate, so their bytes are not searched. A side folder's script is read either way."""
    read: list[bytes] = []
    real = project_index._reader

    def reader(name: str):
        found = real(name)
        return (lambda data: read.append(data) or found(data)) if name == "runs_at_top_level" else found

    monkeypatch.setattr(project_index, "_reader", reader)
    demo, tool = "import torch\n\nprint(torch.zeros(1).cuda())\n", "import torch\n\nprint(torch.ones(1).cuda())\n"
    texts = {"README.md": "The demo shows the model.\n", "demo.py": demo, "side/tool.py": tool}
    index = build_index(
        (IndexedFile(name, classify(PurePath(name)), partial(str.encode, text)) for name, text in texts.items()), load_catalog()
    )
    index.facts("side/tool.py", classify(PurePath("side/tool.py")))
    assert tool.encode() in read, "a side folder's script is a candidate: its top level is read"
    assert demo.encode() not in read, "no command runs a top-folder script: its scripts are the project"
