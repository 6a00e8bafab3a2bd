"""A Cog GPU image's predictor is a deployment route, not the normal path (`rules/containers/cog.py`)."""

from __future__ import annotations

from functools import partial

from cudaudit.model import Severity
from cudaudit.rules.containers.cog import gpu_predictors
from support import analyze

PREDICTOR = '''import torch
from cog import BasePredictor


class Predictor(BasePredictor):
    def setup(self):
        self.model = torch.nn.Linear(2, 2).to("cuda")
'''
GPU_IMAGE = 'build:\n  gpu: true\n  python_version: "3.10"\npredict: "predict.py:Predictor"\n'


def predictors(files: dict[str, str], modules: set[str]) -> dict[str, tuple[str, int]]:
    configs = {path: partial(str.encode, text) for path, text in files.items()}
    return {module: (e.path, e.line) for module, e in gpu_predictors(configs, modules).items()}


def test_the_module_a_gpu_cog_yaml_predicts_with_is_named_beside_it():
    files = {"demo/replicate/cog.yaml": GPU_IMAGE}
    found = predictors(files, {"demo/replicate/predict.py", "predict.py"})
    assert found == {"demo/replicate/predict.py": ("demo/replicate/cog.yaml", 4)}


def test_a_cpu_image_a_missing_module_or_broken_yaml_names_nothing():
    cpu = GPU_IMAGE.replace("gpu: true", "gpu: false")
    assert predictors({"cog.yaml": cpu}, {"predict.py"}) == {}
    assert predictors({"cog.yaml": GPU_IMAGE.replace("  gpu: true\n", "")}, {"predict.py"}) == {}
    assert predictors({"cog.yaml": GPU_IMAGE}, {"serve.py"}) == {}
    assert predictors({"cog.yaml": "build: [gpu: true\n"}, {"predict.py"}) == {}


def test_a_scan_caps_a_gpu_predictors_errors_at_warnings():
    files = {"README.md": "Run `python infer.py`.\n", "infer.py": "print(1)\n", "cog.yaml": GPU_IMAGE}
    found = {(f.span.line, f.severity) for f in analyze(PREDICTOR, path="predict.py", files=files)}
    assert found == {(7, Severity.WARNING)}
    cpu = {**files, "cog.yaml": GPU_IMAGE.replace("true", "false")}
    assert {(f.span.line, f.severity) for f in analyze(PREDICTOR, path="predict.py", files=cpu)} == {(7, Severity.ERROR)}
