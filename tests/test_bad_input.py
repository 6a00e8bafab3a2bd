"""Bad input never stops a scan: each bad file is one `errors` entry, the rest is scanned."""

from __future__ import annotations

import os
import warnings

from hypothesis import given, settings
from hypothesis import strategies as st

from cudaudit.engine import FileTask, analyze_bytes
from cudaudit.filekinds import FileKind
from cudaudit.rules.dependencies.declared import declared_dependencies
from cudaudit.rules.python.registries import read_registrations
from cudaudit.safe_read import MAX_FILE_BYTES
from cudaudit.settings import AnalysisSettings
from support import scan_json, write

LOCKED = "import torch\ntorch.cuda.synchronize()\n"


def test_each_bad_file_is_one_error_and_the_scan_goes_on(cli, tmp_path):
    write(tmp_path / "good.py", LOCKED)
    write(tmp_path / "syntax.py", "import torch\ndef broken(:\n    torch.cuda.synchronize()\n")
    write(tmp_path / "binary.py", b"torch.cuda\0\x01\x02")
    write(tmp_path / "latin.py", b"import torch\nname = '\xe9'\ntorch.cuda.synchronize()\n")
    write(tmp_path / "huge.py", "# cuda\n" * (MAX_FILE_BYTES // 7 + 1))
    os.symlink(tmp_path / "gone.py", tmp_path / "dangling.py")
    result = cli("scan", "--format", "json", ".", "dangling.py")
    assert result.exit_code == 1
    report = scan_json(cli, ".", "dangling.py")
    errors = {e["path"]: e for e in report["errors"]}
    assert set(errors) == {"syntax.py", "binary.py", "latin.py", "huge.py", "dangling.py"}
    assert errors["syntax.py"]["line"] == 2 and "syntax error" in errors["syntax.py"]["message"]
    assert "NUL" in errors["binary.py"]["message"]
    assert "decode" in errors["latin.py"]["message"]
    assert "MiB" in errors["huge.py"]["message"]
    assert "cannot read" in errors["dangling.py"]["message"]
    assert [f["path"] for f in report["findings"]] == ["good.py"]


def test_text_mode_prints_one_line_per_error_on_stderr(cli, tmp_path):
    write(tmp_path / "syntax.py", "import torch\ndef broken(:\n    torch.cuda.synchronize()\n")
    result = cli("scan", ".")
    assert result.exit_code == 1
    assert result.stderr.count("syntax.py:2:") == 1
    assert "Traceback" not in result.output


def test_declared_encodings_bom_and_crlf_are_read_as_python_reads_them(cli, tmp_path):
    write(tmp_path / "latin.py", b"# -*- coding: latin-1 -*-\nimport torch\nn = '\xe9'; torch.cuda.synchronize()\n")
    write(tmp_path / "bom.py", b"\xef\xbb\xbfimport torch\r\ntorch.cuda.synchronize()\r\n")
    report = scan_json(cli)
    assert report["errors"] == []
    spans = {f["path"]: (f["line"], f["column"]) for f in report["findings"]}
    assert spans == {"bom.py": (2, 1), "latin.py": (3, 10)}


def test_scanning_never_runs_the_code(cli, tmp_path):
    marker = tmp_path / "ran"
    write(tmp_path / "setup.py", f"import torch\nopen({str(marker)!r}, 'w').write('x')\ntorch.cuda.synchronize()\n")
    assert scan_json(cli)["summary"]["findings"] == 1
    assert not marker.exists()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(["torch", ".cuda", "(", ")", '"cuda"', "'", "=", ":", "\n", " ", "    ", "#", "[", "]", "if ",
                         "not ", "import ", " as ", ",", "f'cuda:{", "}", "device", "\t", "\\", "é", "\r"]),
    ).map("".join)
)
def test_analysis_never_raises(source):
    task = FileTask("x.py", "x.py", (FileKind.PYTHON,), frozenset({"CDA101", "CDA102", "CDA103"}))
    findings, errors = analyze_bytes(("import torch\n" + source).encode(), task, AnalysisSettings())
    assert all(e.path == "x.py" for e in errors)
    assert not (findings and errors)


def test_code_the_compiler_warns_about_is_scanned_and_fixed_without_a_warning(cli, tmp_path):
    # "\d" is an invalid escape: Python warns while compiling it (printed by default from 3.12),
    # and under an error filter the parse itself would fail.
    write(tmp_path / "train.py", 'import re, torch\nDIGITS = re.compile("\\d+")\nmodel = torch.nn.Linear(2, 2).cuda()\n')
    write(tmp_path / "setup.py", 'import re\nfrom setuptools import setup\nre.compile("\\d")\nsetup(install_requires=["cupy-cuda12x"])\n')
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = scan_json(cli)
        fixed = cli("fix", "--unsafe-fixes", "train.py")
    assert report["errors"] == []
    assert {f["path"] for f in report["findings"]} == {"train.py", "setup.py"}
    assert fixed.exit_code == 0, fixed.output
    assert ".cuda()" not in (tmp_path / "train.py").read_text()


def test_the_index_reads_code_the_compiler_warns_about_under_an_error_filter():
    """The project index parses setup.py and registering modules on its own: a `"\\d"` in them must
    not turn into a SyntaxError under `-W error` (nothing read) nor a printed warning."""
    setup = 'import re\nfrom setuptools import setup\nre.compile("\\d")\nsetup(extras_require={"gpu": ["pynvml"]})\n'
    module = (
        'import re\nfrom runner.registry import register_backend\nPATTERN = re.compile("\\d")\n\n'
        '@register_backend("remote")\nclass RemoteBackend:\n    pass\n'
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, extras, _, _ = declared_dependencies("setup.py", setup, FileKind.SETUP)
        registrations, _ = read_registrations(module.encode())
    assert extras == (("gpu", "pynvml"),)
    assert [name for name, *_ in registrations] == ["RemoteBackend"]
