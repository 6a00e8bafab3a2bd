"""The root scripts a project's documents run (`documented_scripts.py`), read from the root's documents."""

from __future__ import annotations

from cudaudit.documented_scripts import documented_scripts, linked_scripts
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
