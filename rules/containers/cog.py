"""Replicate Cog predictors built for NVIDIA GPUs: a deployment route, not the project's normal path.

A `cog.yaml` describes how Cog builds a Docker image of a model and runs predictions in it
(https://github.com/replicate/cog/blob/main/docs/yaml.md): `predict: "predict.py:Predictor"`
points at the class that serves predictions, and `build: gpu: true` builds on the nvidia-docker
base image with the CUDA and cuDNN versions Cog picks. The module `predict` names is then the
entry of an NVIDIA GPU service (Replicate's hosted demo, `cog predict`), which runs on a GPU by
construction: another path beside the project's own install and scripts, whose findings are at
most warnings. A `cog.yaml` without `gpu: true` builds a CPU image: its predictor keeps its verdicts.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Collection

from cudaudit.facts import Evidence
from cudaudit.rules.orchestration.yamldoc import entry, get, load_documents, scalar
from cudaudit.source import UnparsableError


def gpu_predictors(configs: dict[str, Callable[[], bytes]], modules: Collection[str]) -> dict[str, Evidence]:
    """Module (display path) -> the `predict:` line that makes it a Cog GPU image's entry, for each
    `cog.yaml` of `configs` (display path -> its bytes) whose `build.gpu` is true and whose
    `predict` names a module of `modules`, relative to the `cog.yaml`'s folder."""
    found: dict[str, Evidence] = {}
    for path, read in sorted(configs.items()):
        try:
            documents = load_documents(read().decode("utf-8", "replace"))
        except (OSError, UnparsableError):
            continue
        root = documents[0] if documents else None
        if (scalar(get(get(root, "build"), "gpu")) or "").lower() != "true":
            continue
        predict = entry(root, "predict")
        reference = scalar(predict[1]) if predict else None
        if predict is None or not reference:
            continue
        module = posixpath.normpath(posixpath.join(posixpath.dirname(path), reference.partition(":")[0]))
        if module in modules:
            line = predict[0].start_mark.line + 1
            found[module] = Evidence(path, line, f"predict: {reference}, with build.gpu true: a Cog image for NVIDIA GPUs")
    return found
