"""Container image references read into the repository and tag the catalog knows them by.

A reference whose first path component is a registry host (it holds a `.` or a `:`, or is
`localhost`: the rule of Docker's reference grammar, https://github.com/distribution/reference/blob/main/normalize.go)
names an image in that registry. A pull-through mirror (`docker.1ms.run/nvidia/cuda`,
`mirror.gcr.io/library/ubuntu`) or a private copy keeps the image's own path below the host, so
when the whole reference is not known, the path below the host is the image the catalog is asked for.
"""

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
    def keys(self) -> tuple[str, ...]:
        """Catalog keys, most specific first: `nvidia/cuda:12.4.1-devel-ubuntu22.04`, `nvidia/cuda`; then
        those of the path below a registry host (`docker.1ms.run/nvidia/cuda`)."""
        return tuple(key for repository in self.repositories for key in (f"{repository}:{self.tag}", repository))

    @property
    def repositories(self) -> tuple[str, ...]:
        """The repository as written, then the path below its registry host when it names one."""
        below = below_registry(self.repository)
        return (self.repository, below) if below else (self.repository,)

    @property
    def is_rocm(self) -> bool:
        """AMD publishes its ROCm images under `rocm/` on Docker Hub (`rocm/pytorch`, `rocm/dev-ubuntu-22.04`);
        serving engines tag theirs (`text-generation-inference:3.3.5-rocm`, `ollama/ollama:rocm`) or name
        a repository for it (`vllm/vllm-openai-rocm`)."""
        return "rocm" in self.tag.lower() or any(
            repository.startswith("rocm/") or repository.endswith("-rocm") for repository in self.repositories
        )


def below_registry(repository: str) -> str | None:
    """`nvidia/cuda` of `docker.1ms.run/nvidia/cuda` or `registry.local:5000/nvidia/cuda`; None where the
    first component is no registry host (`nvidia/cuda` itself, a Docker Hub image)."""
    host, slash, rest = repository.partition("/")
    if not slash or not rest or not ("." in host or ":" in host or host == "localhost"):
        return None
    return rest.removeprefix("library/")


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
