"""`cli-tool` keys: the program a module runs through `subprocess`, `os.system` and their kin.

The program is the first word of the command: `["nvidia-smi", ...]`, `"nvcc --version"`,
`cuda_home + "/bin/nvcc"`, `f"{cuda_home}/bin/nvcc -V"`; `VAR=value` prefixes are skipped and a
path keeps only its last part.

A command run through a shell whose result the program drops (`os.system("nvcc --version")` as a
statement of its own, `subprocess.run("nvidia-smi", shell=True)` without `check=True`) loses nothing
on any target: where the tool is missing the shell prints that it is not found and exits 127, which
nothing reads, and the program goes on (a diagnostic printout). Such a site works everywhere. A run
without a shell (`subprocess.call(["nvcc", "-V"])`) raises `FileNotFoundError` first, and one whose
status or output is read decides something with it: both keep their reading.
"""

from __future__ import annotations

import ast
import shlex

from cudaudit.rules.python.literals import string_value
from cudaudit.rules.python.regions import ALL_TARGETS
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
                statement = self.walk.statement
                dropped = isinstance(statement, ast.Expr) and statement.value is call and _through_a_shell(call, callee)
                self.walk.report(DETECTOR, program, call.args[0], quiet=ALL_TARGETS if dropped else frozenset())


SHELL_RUNNERS = frozenset({"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"})
"""Runners that always hand the command to a shell and never raise where its program is missing."""
_CHECKED = frozenset({"subprocess.check_call", "subprocess.check_output"})


def _through_a_shell(call: ast.Call, callee: str | None) -> bool:
    """Whether `call` runs its command through a shell without raising where the program is missing:
    `os.system`, `os.popen`, `subprocess.getoutput`, or another `subprocess` runner given
    `shell=True` and no `check` but `check=False` (a `check_*` runner raises on the shell's exit status)."""
    if callee in SHELL_RUNNERS:
        return True
    if callee in _CHECKED or not (callee or "").startswith("subprocess."):
        return False
    keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    shell, check = keywords.get("shell"), keywords.get("check")
    return (
        isinstance(shell, ast.Constant) and shell.value is True
        and (check is None or (isinstance(check, ast.Constant) and check.value is False))
        and not any(keyword.arg is None for keyword in call.keywords)  # **options may set check
    )


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
