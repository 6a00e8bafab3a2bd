"""SARIF for GitHub code scanning, workflow annotations, baselines and --fail-on, end to end."""

from __future__ import annotations

import gzip
import json

import jsonschema
import pytest

from support import REPO, git, scan_json, write

SCHEMA = json.loads((REPO / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
LOCKED = 'import torch\n\nmodel = Net().cuda()\nx = torch.zeros(1, device="cuda")\ntorch.cuda.synchronize()\n'


@pytest.fixture
def repo(tmp_path):
    git(tmp_path, "init", "-q")
    write(tmp_path / "src" / "train.py", LOCKED)
    return tmp_path


def sarif(cli, cwd, *args):
    result = cli("scan", "-f", "sarif", *args, cwd=cwd)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def test_sarif_is_valid_and_has_what_github_needs(cli, repo):
    document = sarif(cli, repo / "src")
    jsonschema.validate(document, SCHEMA)
    [run] = document["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "cudaudit" and driver["semanticVersion"] and driver["informationUri"]
    assert run["columnKind"] == "unicodeCodePoints"
    assert run["automationDetails"]["id"] == "cudaudit/"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    rules = {rule["id"]: rule for rule in driver["rules"]}
    assert set(rules) == {"CDA101", "CDA102", "CDA103"}
    for rule in rules.values():
        assert rule["shortDescription"]["text"] and len(rule["fullDescription"]["text"]) <= 1024
        assert rule["help"]["text"] and "| target |" in rule["help"]["markdown"]
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        assert len(rule["properties"]["tags"]) <= 20 and rule["properties"]["precision"]
    assert "target:cpu" in rules["CDA102"]["properties"]["tags"]
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": "src/train.py", "uriBaseId": "%SRCROOT%"}
        assert location["region"]["startLine"] >= 1 and location["region"]["startColumn"] >= 1
        assert result["partialFingerprints"]["primaryLocationLineHash"]
    by_rule = {r["ruleId"]: r for r in run["results"]}
    assert by_rule["CDA102"]["message"]["text"].startswith("`Net().cuda()` moves data to a CUDA device")
    [fix] = by_rule["CDA103"]["fixes"]
    [replacement] = fix["artifactChanges"][0]["replacements"]
    assert replacement["insertedContent"]["text"] == "DEVICE_TYPE"


def test_fingerprints_survive_unrelated_line_shifts(cli, repo):
    before = sarif(cli, repo)["runs"][0]["results"]
    write(repo / "src" / "train.py", '"""Docstring added above."""\n\n\n' + LOCKED)
    after = sarif(cli, repo)["runs"][0]["results"]
    hashes = lambda results: sorted(r["partialFingerprints"]["primaryLocationLineHash"] for r in results)  # noqa: E731
    assert hashes(before) == hashes(after)
    assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in after} == {6, 7, 8}


def test_sarif_category_and_output_file(cli, repo):
    cli("scan", "-f", "sarif", "--sarif-category", "gpu-lockin", "-o", "out.sarif", cwd=repo)
    document = json.loads((repo / "out.sarif").read_text())
    assert document["runs"][0]["automationDetails"]["id"] == "gpu-lockin/"
    assert len(gzip.compress((repo / "out.sarif").read_bytes())) < 10 * 1024 * 1024


def test_github_annotations(cli, repo):
    result = cli("scan", "-f", "github", cwd=repo)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("::error file=src/train.py,line=3,col=9,endLine=3,endColumn=21,title=CDA102 ")
    assert "rocm%3A works%2C cpu%3A change" in lines[0]
    assert lines[0].endswith("::`Net().cuda()` moves data to a CUDA device; use `.to(device)` with a device chosen at run time")
    portable = cli("scan", "-f", "github", "-t", "rocm", "--show-portable", cwd=repo).stdout.splitlines()
    assert any(line.startswith("::notice ") for line in portable)


def test_baseline_reports_only_new_findings_even_after_lines_move(cli, repo):
    recorded = cli("scan", "--write-baseline", "baseline.json", cwd=repo)
    assert recorded.exit_code == 0 and recorded.stdout == "", "writing a baseline accepts the findings"
    assert "wrote 3 finding(s) to the baseline baseline.json" in recorded.stderr
    assert "hid 3 known finding(s)" in cli("scan", "--baseline", "baseline.json", cwd=repo).stderr
    assert scan_json(cli, "--baseline", "baseline.json", cwd=repo)["findings"] == []
    assert cli("scan", "--baseline", "baseline.json", cwd=repo).exit_code == 0
    write(repo / "src" / "train.py", "import os\n\n" + LOCKED + "y = x.cuda()\n")
    new = scan_json(cli, "--baseline", "baseline.json", cwd=repo)["findings"]
    assert [(f["rule"], f["line"]) for f in new] == [("CDA102", 8)]
    write(repo / "broken.json", "{")
    assert cli("scan", "--baseline", "broken.json", cwd=repo).exit_code == 2


def test_fail_on_threshold(cli, tmp_path):
    write(tmp_path / "noted.py", "import torch\nif torch.cuda.is_available():\n    torch.cuda.synchronize()\n")
    assert cli("scan", "noted.py").exit_code == 0, "notes never fail by default"
    assert cli("scan", "noted.py", "--fail-on", "note").exit_code == 0, "a site that works everywhere is no finding"
    assert cli("scan", "noted.py", "--fail-on", "note", "--show-portable").exit_code == 1
    write(tmp_path / "locked.py", LOCKED)
    assert cli("scan", "locked.py").exit_code == 1
    assert cli("scan", "locked.py", "--fail-on", "error").exit_code == 1


def test_code_the_fixer_wrote_scans_clean(cli, tmp_path):
    write(tmp_path / "train.py", LOCKED + "from torch.cuda.amp import autocast\nwith autocast():\n    pass\n")
    assert cli("scan", "train.py").exit_code == 1
    assert cli("fix", "--unsafe-fixes", "train.py").exit_code == 0
    assert "DEVICE_TYPE = " in (tmp_path / "train.py").read_text()
    assert cli("scan", "train.py").exit_code == 0


def test_cli_hook_and_action_share_one_threshold():
    import yaml

    from cudaudit.commands.scan import DEFAULT_FAIL_ON

    hooks = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert DEFAULT_FAIL_ON.value == "warning"
    assert "--fail-on" not in hooks["cudaudit"]["entry"] and "--exit-zero" not in hooks["cudaudit"]["entry"]
    assert action["inputs"]["fail-on"]["default"] == DEFAULT_FAIL_ON.value


def _github_anchor(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as hyphens."""
    import re

    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_sarif_rule_links_point_at_headings_of_the_rule_reference(cli, tmp_path):
    from cudaudit import PROJECT_URL, RULES_URL
    from cudaudit.tomlcompat import tomllib

    write(tmp_path / "train.py", LOCKED + "import cupy\n")
    write(tmp_path / "Dockerfile", "FROM nvidia/cuda:12.4.1-runtime-ubuntu22.04\n")
    driver = sarif(cli, tmp_path)["runs"][0]["tool"]["driver"]
    reference = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    anchors = {_github_anchor(line.lstrip("#")) for line in reference.splitlines() if line.startswith("#")}
    assert driver["informationUri"] == PROJECT_URL
    assert len(driver["rules"]) >= 4
    for rule in driver["rules"]:
        page, _, anchor = rule["helpUri"].partition("#")
        assert page == RULES_URL and anchor in anchors, rule["helpUri"]
    urls = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["urls"]
    assert urls == {"Homepage": PROJECT_URL, "Rules": RULES_URL}
    assert RULES_URL.endswith("/docs/rules.md")
