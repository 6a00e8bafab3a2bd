"""The root scripts a project's documents run (`documented_scripts.py`), read from the root's documents."""

from __future__ import annotations

from cudaudit.documented_scripts import documented_runs, documented_scripts, linked_scripts, spelled_scripts
from support import write

SCRIPTS = ["train.py", "sample.py", "config.py", "setup.py", "export.py"]


def test_the_first_file_after_a_command_is_the_script_it_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "README.md", "Install: `python setup.py develop`.\n\n```\npython -m torch.distributed.launch \\\n"
          "  --nproc_per_node 8 train.py --cfg config.py\n```\nOptions: [config](config.py), `export.py`.\n")
    write(tmp_path / "docs" / "sampling.md", "python sample.py\n")
    assert documented_scripts("", SCRIPTS) == {"train.py"}, "setup.py builds; a link or a mention runs nothing"
    write(tmp_path / "get_started.rst", "Run ``python3 sample.py --seed 1 && python export.py``.\n")
    assert documented_scripts("", SCRIPTS) == {"train.py", "sample.py", "export.py"}
    assert documented_scripts(str(tmp_path / "missing"), SCRIPTS) == frozenset()


def test_a_folder_a_root_document_links_to_gives_the_commands_of_its_examples(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "README.md", "Try the [`demos`](./demos) folder, or read [the paper](https://example.org/p).\n")
    write(tmp_path / "demos" / "README.md", "```\npython paint/single.py --out a.png\npython demos/grid.py\n```\n")
    write(tmp_path / "other" / "README.md", "python other/run.py\n")
    modules = ["demos/paint/single.py", "demos/grid.py", "demos/paint/batch.py", "other/run.py"]
    assert linked_scripts("", modules) == {"demos/paint/single.py", "demos/grid.py"}, (
        "a command runs from the linked folder or the root; a folder no root document links to runs nothing"
    )
    assert linked_scripts("", ["other/run.py"]) == frozenset()


def test_the_runs_of_any_folder_a_document_gives_and_the_scripts_an_entry_spells(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "README.md", "```\ncd solver && python fit.py\n```\nA [local demo](https://github.com/someone/proj/tree/main/demos/web).\n")
    write(tmp_path / "demos" / "web" / "README.md", "```\ncd demos/web\npython serve.py\n```\n")
    write(tmp_path / "ui.py", "import subprocess\n\ncmd = '\"%s\" -s solver/train.py --cfg %s' % (exe, cfg)\n")
    modules = ["solver/fit.py", "solver/train.py", "demos/web/serve.py", "ui.py"]
    assert documented_runs("", modules) == {"solver/fit.py", "demos/web/serve.py"}, (
        "from the folder a `cd` went to, written from the document's folder or from the root"
    )
    assert spelled_scripts("", ["ui.py"], modules) == {"solver/train.py"}, "an interpreter kept in a variable"
