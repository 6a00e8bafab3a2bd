"""A mode a configuration tree keeps off (`_C.BENCH_MODE = False`) and turns on for a flag: another
path for a script whose documented commands never pass the flag, the normal path of one whose
command does (`rules/python/documented_flags.py`, `opt_in._declared`, through the project index)."""

from __future__ import annotations

from cudaudit.documented_commands import DocumentedCommands
from cudaudit.rules.python.documented_flags import documented_flags, flag_settings
from support import scan_json, write

CONFIG = '''
from yacs.config import CfgNode as CN

_C = CN()
_C.DATA_PATH = ""
_C.BENCH_MODE = False


def get_config(args):
    config = _C.clone()
    if _check_args(args, "bench"):
        config.BENCH_MODE = True
    return config


def _check_args(args, name):
    return getattr(args, name, False)
'''
SCRIPT = '''
import argparse

import torch

from config import get_config


def bench(loader, model):
    for images in loader:
        images = images.cuda(non_blocking=True)
        print("bench", model(images).shape)
        return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-path", type=str)
    parser.add_argument("--bench", action="store_true", help="Measure bench speed only")
    config = get_config(parser.parse_args())
    model = torch.nn.Linear(4, 4)
    if config.BENCH_MODE:
        bench([torch.zeros(4)], model)
        return
    print(model)


if __name__ == "__main__":
    main()
'''
CUDA_LINE = 11


def _project(root, readme: str) -> None:
    write(root / "config.py", CONFIG)
    write(root / "train.py", SCRIPT)
    write(root / "finetune.py", SCRIPT)
    write(root / "README.md", readme)


def _severities(cli, root) -> dict[str, str]:
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return {f["path"]: f["severity"] for f in report["findings"] if f["line"] == CUDA_LINE}


def test_a_mode_only_the_flag_turns_on_is_another_path_where_no_documented_command_passes_it(cli, tmp_path):
    _project(tmp_path, "```bash\npython train.py --data-path data/ \\\n  --bench\npython finetune.py --data-path data/\n```\n")
    assert _severities(cli, tmp_path) == {"train.py": "error", "finetune.py": "warning"}


def test_a_mode_the_tree_turns_on_by_default_keeps_its_verdicts(cli, tmp_path):
    _project(tmp_path, "```bash\npython train.py --data-path data/\npython finetune.py --data-path data/\n```\n")
    write(tmp_path / "config.py", CONFIG.replace("_C.BENCH_MODE = False", "_C.BENCH_MODE = True"))
    assert _severities(cli, tmp_path) == {"train.py": "error", "finetune.py": "error"}


def test_documented_flags_reads_each_script_of_a_command_continued_over_lines():
    readme = b"python -m torch.distributed.launch tools/train.py --cfg a.yaml \\\n  --use-fused --bench\n"
    readme += b"See `python eval.py --help`.\n"
    assert documented_flags(DocumentedCommands({"README.md": lambda: readme})) == {
        "train.py": frozenset({"cfg", "use_fused", "bench"}),
        "eval.py": frozenset({"help"}),
    }


def test_flag_settings_reads_a_constant_set_under_a_test_of_the_flag():
    assert flag_settings({"config.py": CONFIG.encode}) == {"BENCH_MODE": frozenset({"bench"})}
    assert flag_settings({"tests/test_config.py": CONFIG.encode}) == {}  # the test suite turns on what it tests


VIEWER = '''
import torch


class Viewer:
    def __init__(self, model):
        self.model = model

    def render(self):
        torch.cuda.synchronize()
        return self.model
'''
VIEWED = '''
import argparse

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--viewer", action="store_true", help="open the viewer")
    opt = parser.parse_args()
    model = torch.nn.Linear(4, 4)
    if opt.viewer:
        from app.viewer import Viewer
        Viewer(model).render()
    print(model)


if __name__ == "__main__":
    main()
'''


def _viewer_severity(cli, root, readme: str) -> str:
    write(root / "app" / "__init__.py", "")
    write(root / "app" / "viewer.py", VIEWER)
    write(root / "show.py", VIEWED)
    write(root / "README.md", readme)
    report = scan_json(cli, ".", "--no-cache", cwd=root)
    return next(f["severity"] for f in report["findings"] if f["path"] == "app/viewer.py")


def test_a_store_true_option_the_documented_command_passes_is_the_normal_path(cli, tmp_path):
    assert _viewer_severity(cli, tmp_path, "```bash\npython show.py --viewer\n```\n") == "error"


def test_a_store_true_option_no_documented_command_passes_is_another_path(cli, tmp_path):
    assert _viewer_severity(cli, tmp_path, "```bash\npython show.py\n```\n") == "warning"


REPLAYED = '''
import argparse

import torch

from app.viewer import Viewer


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--replay", action="store_true", help="replay a recording")
    parser.add_argument("--viewer", action="store_true", help="open the viewer")
    opt = parser.parse_args()
    model = torch.nn.Linear(4, 4)
    if opt.replay:
        if opt.viewer:
            Viewer(model).render()
    else:
        if opt.viewer:
            Viewer(model).render()
    print(model)


if __name__ == "__main__":
    main()
'''


def test_a_call_under_a_documented_option_is_the_normal_path_whatever_other_switches_call_it(cli, tmp_path):
    write(tmp_path / "app" / "__init__.py", "")
    write(tmp_path / "app" / "viewer.py", VIEWER)
    write(tmp_path / "show.py", REPLAYED)
    write(tmp_path / "README.md", "```bash\npython show.py --viewer\n```\n")
    report = scan_json(cli, ".", "--no-cache", cwd=tmp_path)
    assert next(f["severity"] for f in report["findings"] if f["path"] == "app/viewer.py") == "error"
