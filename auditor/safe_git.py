"""Run git in a tree cudaudit did not write, without letting that tree's configuration run anything.

A `.git` folder is active: its `config` can name programs git runs on ordinary commands
(`core.fsmonitor` on `git ls-files` or `git status`, filter drivers on `git add` and checkout,
hooks on `git commit` and `git worktree add`, `gpg.program` when commits are signed). git's own
documentation (gitsecurityboundary(7)) says a repository that arrived as an archive must not
have git commands run in it. cudaudit runs git only through `run_git`, which overrides every
setting that names a program, on the command line, where it outranks every configuration file:

- `core.fsmonitor=false`, `core.hooksPath=/dev/null` (no hook file exists there), and each
  configured hook (`hook.<name>.command`, git 2.54 and later) disabled;
- each filter driver the configuration defines (`filter.<name>.clean/smudge/process`) emptied,
  which git reads as "no filter", and not required; each diff driver's `command` and
  `textconv` and each merge driver's `driver` emptied;
- no signing or signature checks (`commit.gpgSign`, `tag.gpgSign`, `log.showSignature`: each
  would run `gpg.program`), no pager, no external diff, no credential
  helper, no network protocol at all (`protocol.allow=never`), no submodule recursion, no
  automatic garbage collection or maintenance;
- in the environment: no system-wide configuration (`GIT_CONFIG_NOSYSTEM`), no `GIT_*`
  variable inherited from a calling git (a hook sets `GIT_DIR` and `GIT_INDEX_FILE`) other
  than the author and committer identity, no prompts, no optional locks (so reading a tree
  never rewrites its index), and stdin closed.

The user's own global configuration is still read: it holds their identity and their global
excludes file, which decides what `git ls-files` leaves out. `safe.directory` is left alone:
git's refusal to work in a repository another user owns is a protection, and cudaudit then
walks the folder instead.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

GIT_TIMEOUT_SECONDS = 120

_FIXED_OVERRIDES = (
    "core.fsmonitor=false",
    f"core.hooksPath={os.devnull}",
    "core.pager=cat",
    "core.askPass=",
    "core.sshCommand=",
    "core.alternateRefsCommand=",
    "credential.helper=",
    "diff.external=",
    "commit.gpgSign=false",
    "tag.gpgSign=false",
    "log.showSignature=false",
    "protocol.allow=never",
    "submodule.recurse=false",
    "gc.auto=0",
    "maintenance.auto=false",
)
_KEPT_GIT_VARIABLES = frozenset(
    {
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_AUTHOR_DATE",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "GIT_COMMITTER_DATE",
        "GIT_CONFIG_GLOBAL",  # the user's own choice of global file, not the tree's
    }
)
_SAFE_ENVIRONMENT = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "LC_ALL": "C",
}


class GitUnavailable(Exception):
    """git could not be started or did not finish in time."""


def run_git(
    args: Sequence[str], cwd: Path, *, timeout: float = GIT_TIMEOUT_SECONDS
) -> subprocess.CompletedProcess[bytes]:
    """Run `git ARGS` in `cwd` with every program-running setting switched off; output as bytes.

    Raises `GitUnavailable` when git is missing or times out; a failing git command is not an
    exception (callers read `returncode`).
    """
    environment = safe_environment(os.environ)
    try:
        overrides = _program_overrides(cwd, environment, timeout)
        return subprocess.run(
            ["git", *overrides, *args],
            cwd=cwd,
            env=environment,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=timeout,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitUnavailable(f"git could not run: {exc}") from None


def safe_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment for git: the caller's, less inherited `GIT_*` state, plus the safe settings."""
    kept = {k: v for k, v in environ.items() if not k.startswith("GIT_") or k in _KEPT_GIT_VARIABLES}
    kept.pop("SSH_ASKPASS", None)
    return {**kept, **_SAFE_ENVIRONMENT}


def _program_overrides(cwd: Path, environment: dict[str, str], timeout: float) -> list[str]:
    """`-c` options for the fixed settings and for every driver and hook the config defines.

    Drivers and hooks have names the configuration chooses, so they are listed first (`git
    config` itself runs nothing) and each is switched off by name.
    """
    listed = subprocess.run(
        ["git", *_as_options(_FIXED_OVERRIDES), "config", "--null", "--name-only", "--get-regexp", r"^(filter|hook|diff|merge)\."],
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
        timeout=timeout,
    )
    settings = list(_FIXED_OVERRIDES)
    for section, name in sorted({_section_and_name(key) for key in listed.stdout.split(b"\0") if key}):
        if not name:
            continue  # a two-level key such as `diff.external`, overridden above when it runs anything
        if "=" in name or not name.isprintable():
            # `-c` splits at the first "=": such a name cannot be overridden, so git is not run.
            raise GitUnavailable(f"the git configuration names a {section} {name!r} that cannot be switched off")
        if section == "filter":
            settings += [f"filter.{name}.clean=", f"filter.{name}.smudge=", f"filter.{name}.process="]
            settings.append(f"filter.{name}.required=false")
        elif section == "hook":
            settings += [f"hook.{name}.command=", f"hook.{name}.enabled=false"]
        elif section == "diff":
            settings += [f"diff.{name}.command=", f"diff.{name}.textconv="]
        elif section == "merge":
            settings.append(f"merge.{name}.driver=")
    return _as_options(settings)


def _section_and_name(key: bytes) -> tuple[str, str]:
    """`filter.lfs.clean` → ("filter", "lfs"); a subsection name may itself contain dots."""
    text = os.fsdecode(key)
    section, _, rest = text.partition(".")
    return section.lower(), rest.rpartition(".")[0]


def _as_options(settings: Sequence[str]) -> list[str]:
    return [part for setting in settings for part in ("-c", setting)]
