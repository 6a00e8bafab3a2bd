"""The auto-fix pull request text stays under GitHub's 65,536-character limit by summarising."""

from __future__ import annotations

from dataclasses import replace
from functools import cache

from cudaudit.fix_report import BranchOutcome, FixReport, Remaining
from cudaudit.model import ScanResult
from cudaudit.reporters.pr_body import MAX_BODY, render_pr_body
from support import analyze

CODE = "import torch\nimport cupy\nimport pycuda.autoinit\nmodel = Net().cuda()\nx = torch.zeros(1, device='cuda')\n"
WHY = "no automatic rewrite: apply the replacement shown for each target"


@cache
def auto_fix(files: int) -> BranchOutcome:
    """`files` modules of the same code: analysed once, its findings placed in each module."""
    once = analyze(CODE, path="module.py")
    found = [replace(f, path=f"src/package_{i // 50}/module_{i}.py") for i in range(files) for f in once]
    fixed = [f for f in found if f.fix is not None]
    remaining = [Remaining(f, WHY) for f in found if f.fix is None]
    report = FixReport(fixed=fixed, remaining=remaining, notes_left=3)
    after = ScanResult(findings=[item.finding for item in remaining])
    return BranchOutcome("cudaudit/autofix", "0" * 40, ScanResult(findings=found), after, report, "cudaudit: fixes")


def test_a_small_change_lists_every_site():
    body = render_pr_body(auto_fix(3), ("rocm", "cpu"))
    assert "| CDA103 | `src/package_0/module_0.py` | 1 |" in body
    assert "  - line 2, CDA201: " in body and WHY in body
    assert body.rstrip().endswith("3 note(s) on guarded or merely CUDA-flavoured code are not listed.")


def test_a_large_one_summarises_per_file_then_counts_what_does_not_fit():
    medium = render_pr_body(auto_fix(300), ("rocm", "cpu"))
    assert len(render_pr_body(auto_fix(300), ("rocm", "cpu"), limit=10**9)) > MAX_BODY, "the full text would not fit"
    assert len(medium) <= MAX_BODY
    assert "| CDA103 | 300 | 300 |" in medium, "fixes are counted per rule"
    assert "- `src/package_0/module_0.py`: 2 site(s): CDA201 ×1, CDA202 ×1" in medium and WHY not in medium
    huge = render_pr_body(auto_fix(2000), ("rocm", "cpu"))
    assert len(huge) <= MAX_BODY
    assert "more file(s): `cudaudit scan -f concise` on the branch lists every site." in huge
    assert "## Readiness by target" in huge and huge.rstrip().endswith("are not listed.")


def test_a_lifted_requirement_that_leans_on_other_modules_is_left_to_a_person(tmp_path):
    (tmp_path / "models.py").write_text("def build():\n    pass\n")
    code = "import torch\nfrom models import build\n\n\ndef main():\n    assert torch.cuda.is_available()\n    build()\n"
    [lifted] = [f for f in analyze(code, path=str(tmp_path / "train.py")) if f.rule == "CDA114"]
    report = FixReport(fixed=[lifted])
    outcome = BranchOutcome("cudaudit/autofix", "0" * 40, ScanResult(findings=[lifted]), ScanResult(), report, "fixes")
    body = render_pr_body(outcome, ("cpu",))
    still = body.split("## Still needs a person")[1]
    assert "line 6, CDA114: lifts the requirement, but the code it protected also uses models.build" in still
