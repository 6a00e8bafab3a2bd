"""Container image references read into the repository and tag the catalog knows them by."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOCKER_HUB = ("docker.io/", "index.docker.io/", "registry-1.docker.io/")
_EXPRESSION = re.compile(r"\$\{")
"""`${{ matrix.image }}` in a workflow, `${IMAGE}` in compose: not known until run time."""


@dataclass(frozen=True)
class ImageRef:
    repository: str
    """Lower case, without the Docker Hub registry or its `library/` namespace: `nvidia/cuda`."""
    tag: str

    @property
    def keys(self) -> tuple[str, str]:
        """Catalog keys, most specific first: `nvidia/cuda:12.4.1-devel-ubuntu22.04`, `nvidia/cuda`."""
        return f"{self.repository}:{self.tag}", self.repository

    @property
    def is_rocm(self) -> bool:
        """AMD publishes its ROCm images under `rocm/` on Docker Hub (`rocm/pytorch`, `rocm/dev-ubuntu-22.04`);
        serving engines tag theirs (`text-generation-inference:3.3.5-rocm`, `ollama/ollama:rocm`) or name
        a repository for it (`vllm/vllm-openai-rocm`)."""
        return self.repository.startswith("rocm/") or self.repository.endswith("-rocm") or "rocm" in self.tag.lower()


def parse_image(reference: str) -> ImageRef | None:
    """`docker://nvidia/cuda:12.4.1-runtime-ubuntu22.04@sha256:...` and the like; None when the name is computed."""
    reference = reference.strip().removeprefix("docker://").partition("@")[0]
    slash, colon = reference.rfind("/"), reference.rfind(":")
    repository, tag = (reference[:colon], reference[colon + 1 :]) if colon > slash else (reference, "latest")
    if not repository or _EXPRESSION.search(repository) or any(c.isspace() for c in repository):
        return None
    repository = repository.lower()
    for registry in _DOCKER_HUB:
        repository = repository.removeprefix(registry)
    return ImageRef(repository.removeprefix("library/"), tag)
