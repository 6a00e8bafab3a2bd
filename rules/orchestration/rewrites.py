"""The CDA710 rewrite: a job that tests the project on the one named target, added to the workflow.

When no workflow runs a job on CPU or ROCm, `cudaudit fix --target cpu|rocm --unsafe-fixes`
appends to the `jobs:` of the workflow the finding is in the job `cudaudit resolve --ci github`
writes as a workflow of its own (`resolvers/ci_workflow.py`): it installs the target's variant of
the project's dependency files and runs its tests. The job is indented like the workflow's other
jobs and named so it clashes with none; a workflow whose jobs are written in flow style
(`jobs: {a: ...}`) is left alone. Unsafe: it adds CI runs to review (and, for ROCm, a runner to
provide), though no CUDA behaviour changes.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, Node

from cudaudit.model import Edit, Span
from cudaudit.resolvers.ci_plan import CiPlan
from cudaudit.resolvers.ci_workflow import job, job_name
from cudaudit.resolvers.variants import single_target
from cudaudit.rules.orchestration.yamldoc import get, pairs, scalar
from cudaudit.settings import AnalysisSettings
from cudaudit.source import SourceLines

DEFAULT_PLAN = CiPlan((), "python -m pytest")
"""Without the project at hand (a single file analysed): run pytest, install nothing the plan does not know."""


def second_backend_job(text: str, document: Node, settings: AnalysisSettings) -> tuple[str, Edit] | None:
    """The description and edit that add a test job on the one target of `settings`, or None."""
    target = single_target(settings.targets)
    jobs = get(document, "jobs")
    if target is None or not isinstance(jobs, MappingNode) or jobs.flow_style or not jobs.value:
        return None
    names = {scalar(key) for key, _ in pairs(jobs)}
    first_key, _ = jobs.value[0]
    _, last_value = jobs.value[-1]
    name = job_name(target)
    suffix = 2
    while name in names:
        name, suffix = f"{job_name(target)}-{suffix}", suffix + 1
    block = job(settings.ci_plan or DEFAULT_PLAN, target, " " * first_key.start_mark.column)
    block = block.replace(f"{job_name(target)}:", f"{name}:", 1)
    lines = SourceLines(text)
    end = last_value.end_mark
    if end.column == 0:
        at = Span(end.line + 1, 1, end.line + 1, 1)
        insertion = block
    else:  # the job ends on the file's last line, without a newline after it
        at = Span(end.line + 1, len(lines.line(end.line + 1)) + 1, end.line + 1, len(lines.line(end.line + 1)) + 1)
        insertion = "\n" + block.rstrip("\n")
    return f"add the job `{name}`, which runs the tests on {target}", Edit(at, insertion)
