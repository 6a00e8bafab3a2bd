"""The CMake options a build turns on only where the installer asks for them.

`option(LIB_CUBLAS "use cuBLAS" OFF)`, or an `option()` given no value, declares a switch that a plain
configure leaves off (https://cmake.org/cmake/help/latest/command/option.html). What `if(LIB_CUBLAS)`
guards, and what `if(X)` guards for a variable X that only such branches set, builds a part that only an
installer who passes `-DLIB_CUBLAS=ON` gets: another path, at most a warning. Unless the project itself
turns it on: a document, shell script, Python build script, Dockerfile or CI workflow of the scan spells
`-DLIB_CUBLAS=` with a constant other than a false one, a CMake file sets it on, or a Makefile's
default goal runs such a command (a rule that only another target reaches, `make cuda_tests`, is a route
the user picks as well). A document that gives the plain configure and, as a variant of it, the same
command with `-DLIB_CUBLAS=ON` ("CUDA builds"), or a workflow that passes a variable's value (each
variant of a matrix), leaves the choice to the installer too (`turned_on`). A file that enables the CUDA language only inside such a branch reads its
`CMAKE_CUDA_*` settings only there too, wherever they are set.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from cudaudit.rules.builds.cmake_sides import and_operands

if TYPE_CHECKING:
    from cudaudit.rules.builds.cmake import Command

_FALSE = frozenset({"", "OFF", "FALSE", "NO", "N", "0", "IGNORE", "NOTFOUND"})
"""CMake's false constants (the `if()` documentation: https://cmake.org/cmake/help/latest/command/if.html)."""
_SETTING = re.compile(rb"""-D\s*([A-Za-z_]\w*)(?::\w+)?=["']?([^\s"'\\;)]*)""")
"""A `-DNAME=VALUE` (or `-DNAME:BOOL=VALUE`) a command gives cmake."""


def off_options(commands: Sequence[Command]) -> set[str]:
    """The options a CMake file declares off by default: `option(NAME "help")`, `option(NAME "help" OFF)`."""
    found = set()
    for command in commands:
        words = [argument.text for argument in command.arguments]
        if command.name == "option" and words and (len(words) < 3 or words[2].upper() in _FALSE):
            found.add(words[0])
    return found


def set_on(commands: Sequence[Command]) -> set[str]:
    """The variables a CMake file sets to a true value anywhere (`set(NAME ON CACHE BOOL "" FORCE)`)."""
    found = set()
    for command in commands:
        words = [argument.text for argument in command.arguments]
        if command.name == "set" and len(words) >= 2 and words[1].upper() not in _FALSE and not words[1].startswith("$"):
            found.add(words[0])
    return found


def turned_on(data: bytes, names: Iterable[str], assignments: bytes | None = None) -> set[str]:
    """The `names` a text turns on with `-DNAME=VALUE`, VALUE a constant that is not false.

    Not a VALUE the runner picks (`-DLIB_CUDA=${{ matrix.cuda }}` in a workflow that builds each variant, a
    variable the text never assigns), as `set_on` reads `set(NAME ${X})`; a shell default
    (`${LIB_CUDA:-ON}`) or a variable the text assigns (`CUDA ?= ON`, `ARG CUDA=ON`) is the project's value. Nor a setting whose every line is a
    variant of a configure the text also gives without it: an install guide's `cmake -B build`, and under
    "CUDA builds" `cmake -DLIB_CUDA=ON -B build`, documents the plain configure as the normal path and the
    option as the installer's choice. `assignments` is the text whose assignments give variables their
    values, where it is more than `data` (a whole Makefile for its default goal's recipes)."""
    wanted = set(names)
    lines: dict[str, set[bytes]] = {}
    for match in _SETTING.finditer(data):
        name, value = match.group(1).decode(), match.group(2).decode()
        if name in wanted and _on(_value(data if assignments is None else assignments, value)):
            lines.setdefault(name, set()).add(_line(data, match.start()))
    if not lines:
        return set()
    configures = {_line(data, match.start()) for match in _CONFIGURE.finditer(data)}
    return {name for name, where in lines.items() if not _variants(where, configures - where)}


_DEFAULTED = re.compile(r"\$\{\w+:?-([^}]*)\}")
"""A shell expansion with a default, `${LIB_CUDA:-ON}`: the default is what the project's command passes."""
_VARIABLE = re.compile(r"\$[({]?(\w+)")
"""A plain variable's name in a value: `$cuda`, `${CUDA}`, `$(CUDA)`."""


def _value(data: bytes, value: str) -> str | None:
    """What a `-DNAME=VALUE` passes when the file runs as written: a shell default's value, a plain
    variable's value where the same file assigns it one value (`CUDA ?= ON`, `ARG CUDA=ON`, `CUDA=ON`); None
    for a value the runner picks (`${{ matrix.cuda }}`, a variable the file never assigns, or sets `cuda=ON`
    in one branch and `cuda=OFF` in another)."""
    if not value.startswith("$"):
        return value
    if defaulted := _DEFAULTED.match(value):
        return defaulted.group(1)
    variable = _VARIABLE.match(value)
    if variable is None:
        return None
    assigned = re.findall(
        rb"^[ \t]*(?:ARG[ \t]+|ENV[ \t]+|export[ \t]+)?" + re.escape(variable.group(1).encode())
        + rb"[ \t]*(?:\?|::?)?=[ \t]*[\"']?([^\s\"']*)",
        data,
        re.MULTILINE,
    )
    given = {defaulted.group(1) if (defaulted := _DEFAULTED.match(one.decode())) else one.decode() for one in assigned}
    return given.pop() if len(given) == 1 else None


def _on(value: str | None) -> bool:
    return value is not None and value.upper() not in _FALSE and not value.startswith("$")


_ANY_SETTING = re.compile(rb"""[ \t]-D\s*[A-Za-z_]\w*(?::\w+)?=(?:"[^"\n]*"|'[^'\n]*'|[^\s;)]*)""")
"""A whole `-DNAME=VALUE` argument, a quoted VALUE with its blanks (`-DARCHS="80-real;80-virtual"`)."""
_CONFIGURE = re.compile(rb"(?<![\w-])cmake(?:[ \t]+-[GSBD]|[ \t]+\.\.?[ \t]*$)", re.MULTILINE)
"""A line that configures a build (`cmake -GNinja -B build`, `cmake -S . -B build`, `cmake ..`), not
one that builds or installs one (`cmake --build build`)."""


def _variants(lines: set[bytes], others: set[bytes]) -> bool:
    """Whether each of `lines` is one of the configure lines `others` with other `-D` settings."""
    shared = {_without_settings(line) for line in others}
    return all(_without_settings(line) in shared for line in lines)


def _line(data: bytes, offset: int) -> bytes:
    return data[data.rfind(b"\n", 0, offset) + 1 : (end if (end := data.find(b"\n", offset)) >= 0 else len(data))]


def _without_settings(line: bytes) -> bytes:
    """A command line with its `-D` settings left out and its blanks folded: what variants of one configure share."""
    return b" ".join(_ANY_SETTING.sub(b" ", line).split())


def makefile_turned_on(text: str, names: Iterable[str]) -> set[str]:
    """The `names` the recipes of a Makefile's default goal, and of the rules it depends on, turn on."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    order: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("\t"):
            for target in current:
                rules[target][1].append(line)
            continue
        rule = _rule(line)
        if rule is None:
            current = [] if line.strip() and not line.startswith("#") else current
            continue
        current = [t for t in rule[0] if not t.startswith(".")]
        for target in current:
            rules.setdefault(target, ([], []))[0].extend(rule[1])
            order.append(target)
    if not order:
        return set()
    reached, pending = set(), [order[0]]
    while pending:
        target = pending.pop()
        if target in reached or target not in rules:
            continue
        reached.add(target)
        pending.extend(rules[target][0])
    recipes = "\n".join(line for target in reached for line in rules[target][1])
    return turned_on(recipes.encode(), names, text.encode())


def _rule(line: str) -> tuple[list[str], list[str]] | None:
    """A Makefile rule's first line, `targets: prerequisites` (or `::`), as its targets and prerequisites;
    None for any other line (an assignment, `X := a`, `X = a:b`; a comment)."""
    colon = line.find(":")
    if colon <= 0 or line[0] in " #" or "=" in line[:colon] or line[colon + 1 : colon + 2] == "=":
        return None
    rest = line[colon + 1 :].removeprefix(":")
    if rest.startswith("="):
        return None
    return line[:colon].split(), rest.split(";")[0].split()


def opt_in_commands(commands: Sequence[Command], options: Iterable[str]) -> dict[int, str]:
    """The indexes of the commands inside a branch that needs one of `options` on (`if(NAME)`, `if(NAME
    AND OTHER)`; never an `else()`), or needs a variable that only such commands set, each with the
    option it needs."""
    names = {name: name for name in options}
    if not names:
        return {}
    inside = _inside(commands, names)
    setters: dict[str, set[str | None]] = {}
    for index, command in enumerate(commands):
        if command.name in ("set", "list") and len(command.arguments) > (command.name == "list"):
            variable = command.arguments[1 if command.name == "list" else 0].text
            setters.setdefault(variable, set()).add(inside.get(index))
    derived = {name: next(iter(where)) for name, where in setters.items() if len(where) == 1 and None not in where}
    found = {**inside, **_inside(commands, {**derived, **names})} if set(derived) - set(names) else inside
    return {**_language_settings(commands, found), **found}


def _language_settings(commands: Sequence[Command], opted: Mapping[int, str]) -> dict[int, str]:
    """The `set(CMAKE_CUDA_...)` commands of a file whose every enabling of the CUDA language
    (`enable_language(CUDA)`, `project(... CUDA)`) is inside an opt-in branch, each with that branch's
    option: only the CUDA language reads those variables
    (https://cmake.org/cmake/help/latest/variable/CMAKE_CUDA_ARCHITECTURES.html), so a plain configure
    never uses them. Nothing where the file enables the language outside such a branch, or not at all."""
    enabling = [
        index
        for index, command in enumerate(commands)
        if command.name in ("enable_language", "project")
        and any(argument.text.upper() == "CUDA" for argument in command.arguments[command.name == "project" :])
    ]
    if not enabling or any(index not in opted for index in enabling):
        return {}
    option = opted[enabling[0]]
    return {
        index: option
        for index, command in enumerate(commands)
        if command.name == "set" and command.arguments and command.arguments[0].text.startswith("CMAKE_CUDA_")
    }


def _inside(commands: Sequence[Command], names: Mapping[str, str | None]) -> dict[int, str]:
    found: dict[int, str] = {}
    current: list[str | None] = []  # per open if(): the option the branch the walk is in needs, if any
    for index, command in enumerate(commands):
        words = [argument.text for argument in command.arguments]
        if command.name == "if":
            current.append(_needs(words, names))
        elif command.name == "elseif" and current:
            current[-1] = _needs(words, names)
        elif command.name == "else" and current:
            current[-1] = None
        elif command.name == "endif" and current:
            current.pop()
        else:
            needed = next((option for option in current if option is not None), None)
            if needed is not None:
                found[index] = needed
    return found


def _needs(words: list[str], names: Mapping[str, str | None]) -> str | None:
    """The option a condition holds only where it is on: one of `names` alone, or as one operand of
    `AND`s, in a condition with no `OR` or `NOT`."""
    if any(word.upper() in ("OR", "NOT") for word in words):
        return None
    for part in and_operands(words):
        if len(part) == 1 and (name := part[0].removeprefix("${").removesuffix("}")) in names:
            return names[name]
    return None
