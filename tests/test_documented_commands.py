"""The commands a project's documents and scripts give (`documented_commands.py`): what each runs,
under which launcher, in which folder, and the commands of the shell scripts they run."""

from __future__ import annotations

import pytest

from cudaudit.documented_commands import DocumentedCommands, command_of


@pytest.mark.parametrize(("line", "runs"), [
    ("CUDA_VISIBLE_DEVICES=0 python3 -u tools/train.py --cfg a.yaml", (None, "python3", "tools/train.py", None)),
    ("torchrun --nproc_per_node 8 train.py --epochs 3", ("torchrun", None, "train.py", None)),
    ("python -m torch.distributed.launch --nproc_per_node=2 -m pkg.train", ("torch.distributed.launch", "python", None, "pkg.train")),
    ("accelerate launch --multi_gpu train.py", ("accelerate", None, "train.py", None)),
    ("accelerate launch train.py", (None, "accelerate", "train.py", None)),
    ("srun -p gpu --ntasks=16 python -u train.py", ("srun", "python", "train.py", None)),
    ("srun -n 1 python -u train.py", (None, "python", "train.py", None)),
    ("srun -p gpu python -u train.py", (None, "python", "train.py", None)),
    ("./configs/base.sh --resume ckpt.pth", (None, None, "./configs/base.sh", None)),
    ("bash scripts/train.sh 8", (None, "bash", "scripts/train.sh", None)),
    ("tools/train.py reads its config first", (None, None, None, None)),
])
def test_a_command_says_what_it_runs_and_what_starts_it(line, runs):
    command = command_of(line.split())
    assert (command.launcher, command.runner, command.script, command.module) == runs


def _commands(files: dict[str, str]) -> DocumentedCommands:
    return DocumentedCommands({path: (lambda text=text: text.encode()) for path, text in files.items()})


def test_a_cd_before_a_command_is_where_it_runs_until_the_code_block_ends():
    readme = "```bash\ncd ./ops\nsh make.sh\npython test.py\n```\n\n```bash\npython test.py\n```\n`cd ops && python check.py`\n"
    found = [(c.line, c.script, c.folder) for c in _commands({"README.md": readme}) if c.script]
    assert found == [(3, "make.sh", "ops"), (4, "test.py", "ops"), (8, "test.py", ""), (10, "check.py", "ops")]


def test_a_shell_script_a_command_runs_is_read_with_the_callers_arguments_and_launcher():
    commands = _commands({
        "README.md": "```\n./tools/dist.sh 8 --cfg a.yaml \\\n  --bench\n```\n",
        "tools/dist.sh": "#!/bin/bash\nGPUS=$1\nPY_ARGS=${@:2}\ntorchrun --nproc_per_node=$GPUS train.py ${PY_ARGS}\n",
        "tools/alone.sh": "python eval.py \"$@\"\n",
    })
    reached = [(c.source, c.launcher, c.script, c.arguments, c.waiting) for c in commands.reached() if c.script]
    assert reached == [
        ("README.md", None, "./tools/dist.sh", ("8", "--cfg", "a.yaml", "--bench"), False),
        ("tools/dist.sh", "torchrun", "train.py", ("--cfg", "a.yaml", "--bench"), False),
        ("tools/alone.sh", None, "eval.py", ("$@",), True),  # no command runs it: it waits for a caller
    ]


def test_a_line_that_only_changes_the_folder_is_read_on_its_own_line():
    readme = "Build it:\ncd ops\npython check.py\n\n```\ncd ../tools\n```\n"
    assert [(c.line, c.folder) for c in _commands({"docs/a.md": readme}) if c.script] == [(3, "docs/ops")]


def test_a_shell_script_is_split_as_the_shell_splits_it():
    script = '#!/bin/sh\n# python tools/train.py --one-process\nNAME="a b" python "tools/train.py" --tag \'x y\'  # run\n'
    assert [(c.script, c.arguments) for c in _commands({"run.sh": script}) if c.script] == [("tools/train.py", ("--tag", "x y"))]


def test_a_command_turns_on_the_switches_it_gives_no_value_and_keeps_an_ellipsis():
    readme = "```\npython main.py --eval --resume best.pth --no-amp\npython main.py --lr=0.1 \\\n  --dist-eval \\\n  ...\n```\n"
    found = [(command.switches, command.arguments[-1]) for command in _commands({"README.md": readme})]
    assert found == [(frozenset({"eval", "no_amp"}), "--no-amp"), (frozenset({"dist_eval"}), "...")]
