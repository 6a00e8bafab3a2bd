"""`cli-tool` keys: the program a module runs through `subprocess`, `os.system` and their kin.

The program is the first word of the command: `["nvidia-smi", ...]`, `"nvcc --version"`,
`cuda_home + "/bin/nvcc"`, `f"{cuda_home}/bin/nvcc -V"`; `VAR=value` prefixes are skipped and a
path keeps only its last part.
"""

from __future__ import annotations

import ast
import shlex

from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.survey import Survey
from cudaudit.rules.python.walker import Concern

DETECTOR = "cli-tool"
COMMAND_RUNNERS = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        "os.execv",
        "os.execvp",
        "os.execlp",
        "asyncio.create_subprocess_exec",
        "asyncio.create_subprocess_shell",
    }
)


class Commands(Concern):
    @classmethod
    def may_report(cls, survey: Survey) -> bool:
        """A command run whose program is a key."""
        return survey.keyed(
            DETECTOR,
            (program for call, callee in survey.calls if callee in COMMAND_RUNNERS and call.args and (program := executable(call.args[0]))),
        )

    def on_call(self, call: ast.Call, callee: str | None) -> None:
        if callee in COMMAND_RUNNERS and call.args:
            program = executable(call.args[0])
            if program:
                self.walk.report(DETECTOR, program, call.args[0])


def executable(command: ast.expr) -> str | None:
    """The program a command runs, or None when it cannot be read from the syntax."""
    if isinstance(command, (ast.List, ast.Tuple)):
        if not command.elts:
            return None
        command = command.elts[0]
        if isinstance(command, ast.BinOp) and isinstance(command.op, ast.Add):
            command = command.right  # `cuda_home + "/bin/nvcc"`
        program = string_value(command)
        return program.rpartition("/")[2] if program else None
    if isinstance(command, ast.JoinedStr):
        # `f"{cuda_home}/bin/nvcc -V"`: placeholders stand for path prefixes and arguments.
        line = "".join(string_value(v) or "X" for v in command.values)
    else:
        line = string_value(command) or ""
    if not line:
        return None
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    for word in words:
        if "=" not in word:  # skip `VAR=value` prefixes
            return word.rpartition("/")[2]
    return None


CONCERN = Commands
