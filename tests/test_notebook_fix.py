"""`cudaudit fix` on Jupyter notebooks: code cells rewritten in place, every other byte kept."""

from __future__ import annotations

import json

from support import scan_json, write

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\n"


def notebook(code_cells: list[object]) -> dict:
    """A notebook shaped as Jupyter saves one: markdown, code cells with outputs, kernel metadata."""
    cells: list[dict] = [{"cell_type": "markdown", "id": "intro", "metadata": {}, "source": ["# Fine-tune on one GPU ✓\n"]}]
    for number, source in enumerate(code_cells, start=1):
        cells.append(
            {
                "cell_type": "code",
                "execution_count": number,
                "id": f"cell-{number}",
                "metadata": {"scrolled": True, "tags": ["gpu"]},
                "outputs": [
                    {"name": "stdout", "output_type": "stream", "text": [f"run {number}\n", "ok — done\n"]},
                    {"data": {"image/png": PNG, "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                     "metadata": {"needs_background": "light"}, "output_type": "display_data"},
                ],
                "source": source,
            }
        )
    return {
        "cells": cells,
        "metadata": {
            "accelerator": "GPU",
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.9"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def saved_by_jupyter(data: dict) -> str:
    """nbformat's writer: sorted keys, an indent of 1, non-ASCII kept, a final newline."""
    return json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


CELLS = [
    ["%pip install -q transformers\n", "import torch\n", "import torch.nn as nn"],
    [
        "model = nn.Linear(4, 2)\n",
        "%pip install flash-attn\n",
        'x = torch.randn(8, 4, device="cuda")\n',
        "print(model.to(x.device)(x).sum())",
    ],
    "%%time\nbatch = torch.zeros(2, 4, device='cuda:0')\nprint(batch.shape)\n",
    ["print('untouched')"],
]


def test_fix_rewrites_cells_in_place_and_keeps_every_other_byte(cli, tmp_path):
    path = write(tmp_path / "train.ipynb", saved_by_jupyter(notebook(CELLS)))
    before = json.loads(path.read_text(encoding="utf-8"))

    result = cli("fix", str(path))

    assert result.exit_code in (0, 1), result.output
    assert "train.ipynb:cell 3:2:" in result.output, "what remains is shown in its cell"
    text = path.read_text(encoding="utf-8")
    after = json.loads(text)
    assert text == saved_by_jupyter(after), "layout, key order and final newline kept"
    assert after["metadata"] == before["metadata"] and after["nbformat_minor"] == 5
    for old, new in zip(before["cells"], after["cells"]):
        assert {k: v for k, v in old.items() if k != "source"} == {k: v for k, v in new.items() if k != "source"}
    assert after["cells"][0] == before["cells"][0] and after["cells"][4] == before["cells"][4]

    imports = after["cells"][1]["source"]
    assert imports[:3] == [*before["cells"][1]["source"][:2], "import torch.nn as nn\n"]
    assert imports[4].startswith("# The accelerator") and imports[5] == 'DEVICE_TYPE = "cuda" if torch.cuda.is_available() else "cpu"'
    second = after["cells"][2]["source"]
    assert isinstance(second, list) and all(line.endswith("\n") for line in second[:-1])
    assert second == [
        "model = nn.Linear(4, 2)\n",
        "%pip install flash-attn\n",
        "x = torch.randn(8, 4, device=DEVICE_TYPE)\n",
        "print(model.to(x.device)(x).sum())",
    ]

    third = after["cells"][3]["source"]
    assert isinstance(third, str) and third.startswith("%%time\n")
    assert "DEVICE_TYPE = " not in third, "the notebook already defines it in an earlier cell"
    assert third.split("\n")[1] == 'batch = torch.zeros(2, 4, device=f"{DEVICE_TYPE}:0" if DEVICE_TYPE != "cpu" else "cpu")'

    rescan = scan_json(cli, str(path))
    assert not [f for f in rescan["findings"] if f["rule"] == "CDA103"], rescan["findings"]
    assert cli("fix", str(path)).exit_code in (0, 1) and path.read_text(encoding="utf-8") == text, "idempotent"


def test_a_notebook_json_would_not_write_back_is_left_alone(cli, tmp_path):
    data = notebook(CELLS[:2])
    text = saved_by_jupyter(data).replace('"nbformat_minor": 5', '"nbformat_minor": 5.0e0')
    path = write(tmp_path / "odd.ipynb", text)

    result = cli("fix", str(path))

    assert path.read_text(encoding="utf-8") == text
    assert "would not be written back byte for byte" in result.output


def test_layouts_other_tools_write_round_trip(cli, tmp_path):
    data = notebook(CELLS[1:2])
    data["cells"][1]["source"] = "".join(CELLS[1])  # one string, as some tools save it
    text = json.dumps(data, indent=2, ensure_ascii=True)  # no final newline, ASCII escapes
    path = write(tmp_path / "two.ipynb", text.replace("\n", "\r\n").encode())

    cli("fix", str(path))

    data_after = path.read_bytes()
    assert b"\r\n" in data_after and not data_after.replace(b"\r\n", b"").count(b"\n")
    fixed = json.loads(data_after)
    assert "device=DEVICE_TYPE" in fixed["cells"][1]["source"]
    assert data_after.decode() == json.dumps(fixed, indent=2, ensure_ascii=True).replace("\n", "\r\n")


def test_notebook_findings_carry_fixes_in_cell_positions(cli, tmp_path):
    path = write(tmp_path / "nb.ipynb", saved_by_jupyter(notebook(CELLS)))
    [finding] = [f for f in scan_json(cli, str(path))["findings"] if f["rule"] == "CDA103" and f["cell"] == 3]
    [edit] = finding["fix"]["edits"]
    assert (edit["line"], edit["column"]) == (3, 30) and edit["replacement"] == "DEVICE_TYPE"
    source = "".join(CELLS[1]).split("\n")[edit["line"] - 1]
    assert source[edit["column"] - 1 : edit["end_column"] - 1] == '"cuda"'


def test_sarif_offers_no_replacement_inside_the_json_string(cli, tmp_path):
    path = write(tmp_path / "nb.ipynb", saved_by_jupyter(notebook(CELLS)))
    result = cli("scan", "--format", "sarif", str(path))
    sarif = json.loads(result.stdout)
    assert sarif["runs"][0]["results"] and all("fixes" not in r for r in sarif["runs"][0]["results"])
