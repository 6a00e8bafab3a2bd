"""Jupyter notebooks through the real CLI: code cells as Python, `!`/`%pip`/`%%bash` as shell, positions per cell."""

from __future__ import annotations

import json

from support import analyze, scan_json, write

CELLS = [
    {"cell_type": "markdown", "metadata": {}, "source": ["# Serving demo\n", "Run `!nvidia-smi` and `x.cuda()` first.\n"]},
    {
        "cell_type": "code",
        "execution_count": 1,
        "metadata": {"tags": ["setup"]},
        "outputs": [{"name": "stdout", "output_type": "stream", "text": ["torch.cuda.synchronize()\n"]}],
        "source": [
            "!nvidia-smi\n",
            "%pip install torch --index-url https://download.pytorch.org/whl/cu121\n",
            "import torch\n",
            "if torch.cuda.is_available():\n",
            "    !nvidia-smi -L\n",
            "x = torch.zeros(3).cuda()",
        ],
    },
    {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [], "source": ["%%bash\n", "nvcc --version\n", "echo nvidia-smi\n"]},
    {"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [], "source": "y = x.to('cuda')  # cudaudit: ignore[CDA103]\nz = x.to('cuda')"},
    {"cell_type": "raw", "metadata": {}, "source": ["x.cuda()\n"]},
    {"cell_type": "code", "execution_count": 4, "metadata": {}, "outputs": [], "source": ["%%writefile kernel.py\n", "import cupy\n"]},
]


def notebook(cells=CELLS) -> str:
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}, indent=1) + "\n"


def test_findings_carry_their_cell_and_line_within_it(cli, tmp_path):
    write(tmp_path / "demo.ipynb", notebook())
    report = scan_json(cli, "--show-portable", str(tmp_path / "demo.ipynb"))
    sites = [(f["rule"], f["cell"], f["line"], f["column"]) for f in report["findings"]]
    assert sites == [
        ("CDA211", 2, 1, 2),
        ("CDA601", 2, 2, 32),
        ("CDA101", 2, 4, 4),
        ("CDA211", 2, 5, 6),
        ("CDA102", 2, 6, 5),
        ("CDA211", 3, 2, 1),
        ("CDA103", 4, 2, 10),
    ]
    fixed = {f["rule"] for f in report["findings"] if f["fix"] is not None}
    assert fixed == {"CDA102", "CDA103"}, "Python rewrites in cell positions; shell lines have none"


def test_text_names_the_cell(cli, tmp_path):
    write(tmp_path / "demo.ipynb", notebook())
    result = cli("scan", str(tmp_path / "demo.ipynb"))
    assert "demo.ipynb:cell 3:2" in result.stdout


def test_sarif_points_at_the_json_line_of_the_source_line(cli, tmp_path):
    text = notebook()
    write(tmp_path / "demo.ipynb", text)
    sarif = json.loads(cli("scan", "--format", "sarif", str(tmp_path / "demo.ipynb")).stdout)
    first = sarif["runs"][0]["results"][0]
    line = first["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert text.split("\n")[line - 1].strip() == '"%pip install torch --index-url https://download.pytorch.org/whl/cu121\\n",'
    assert "(cell 2, line 2)" in first["message"]["text"]


def test_an_escape_that_fails_is_a_note_and_one_that_installs_keeps_its_verdict():
    """`!nvidia-smi` without the tool prints `command not found` and the notebook goes on; a
    `%%bash` cell runs as a script and `%pip` installs the CUDA build the cells after it use."""
    severities = {
        (f.rule, f.cell.index, f.span.line): {target: fact.severity.value for target, fact in f.targets.items()}
        for f in analyze(notebook(), path="demo.ipynb")
    }
    assert severities[("CDA211", 2, 1)] == {"rocm": "note", "cpu": "note"}
    assert severities[("CDA211", 2, 5)] == {"rocm": "note", "cpu": "note"}
    assert severities[("CDA211", 3, 2)] == {"rocm": "error", "cpu": "error"}
    assert severities[("CDA601", 2, 2)] == {"rocm": "error", "cpu": "warning"}


def test_invalid_json_is_an_error_entry(cli, tmp_path):
    write(tmp_path / "broken.ipynb", '{"cells": [')
    report = scan_json(cli, str(tmp_path / "broken.ipynb"))
    assert report["findings"] == []
    assert report["errors"][0]["path"].endswith("broken.ipynb")
    assert "invalid notebook JSON" in report["errors"][0]["message"]


def test_a_cell_that_does_not_parse_keeps_its_shell_lines():
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["!nvidia-smi\n", "def broken(:\n"]}]
    assert [f.rule for f in analyze(notebook(cells), path="nb.ipynb")] == ["CDA211"]


def test_portable_notebook_is_silent():
    cells = [
        {
            "cell_type": "code",
            "metadata": {},
            "outputs": [],
            "source": [
                "%pip install torch --index-url https://download.pytorch.org/whl/cpu\n",
                "import torch\n",
                "device = torch.accelerator.current_accelerator() or torch.device('cpu')\n",
                "!amd-smi static\n",
            ],
        }
    ]
    assert analyze(notebook(cells), path="nb.ipynb") == []


def test_concise_lines_open_the_notebook_at_the_source_line(cli, tmp_path):
    text = notebook()
    write(tmp_path / "demo.ipynb", text)
    first = cli("scan", "-f", "concise", "demo.ipynb").stdout.splitlines()[0]
    path, line, column, rest = first.split(":", 3)
    assert (path, column) == ("demo.ipynb", "1") and rest.endswith("(cell 2, line 2)")
    assert text.split("\n")[int(line) - 1].strip().startswith('"%pip install torch')


def test_cells_resolve_names_through_the_imports_of_earlier_cells():
    cells = [
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["import torch\n", "import numpy as np"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["\n", "torch.cuda.synchronize()\n", 'y = torch.ones(2, device="cuda")']},
        {"cell_type": "code", "metadata": {}, "outputs": [], "source": ["from __future__ import annotations\n", "torch.cuda.empty_cache()"]},
    ]
    findings = analyze(notebook(cells), path="nb.ipynb")
    assert [(f.rule, f.cell.index, f.span.line, f.span.column) for f in findings] == [
        ("CDA101", 2, 2, 1),
        ("CDA103", 2, 3, 26),
        ("CDA101", 3, 2, 1),
    ]
    [edit] = findings[1].fix.edits
    assert (edit.span.line, edit.span.column, edit.replacement) == (3, 26, "DEVICE_TYPE")
