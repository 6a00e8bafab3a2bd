"""The root scripts a project's documents run (`documented_scripts.py`), read from the root's documents."""

from __future__ import annotations

from cudaudit.documented_scripts import documented_scripts
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
