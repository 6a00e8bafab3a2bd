"""A vendored NVIDIA-only SDK's headers as one component: `cudaudit.vendored_sdks`."""

from __future__ import annotations

from support import scan_json, write

TYPES = """#pragma once
#include <cuda.h>
typedef unsigned long long CUdeviceptr;
struct RaysdkBuildInput { CUdeviceptr vertexBuffer; CUstream stream; };
"""
HOST = """#pragma once
#include "raysdk_types.h"
int raysdkAccelBuild(CUcontext context, CUstream stream, CUdeviceptr tempBuffer, CUdeviceptr outputBuffer);
"""
PROGRAM = """#include <raysdk.h>
__global__ void trace(float *out, CUdeviceptr handle) {
    cudaStream_t stream;
    cudaStreamCreate(&stream);
}
"""


def test_the_vendored_sdks_headers_are_one_finding_and_the_projects_uses_keep_theirs(cli, tmp_path):
    """`third_party/raysdk/` holds the SDK's marker header (`optix.h` here), so its sites are one finding; the
    project's own folder of the same name, which holds no such header, keeps one finding per site."""
    write(tmp_path / "third_party" / "raysdk" / "optix.h", '#pragma once\n#include "raysdk_host.h"\n')
    write(tmp_path / "third_party" / "raysdk" / "raysdk_types.h", TYPES)
    write(tmp_path / "third_party" / "raysdk" / "internal" / "raysdk_host.h", HOST)
    write(tmp_path / "src" / "raysdk" / "program.cu", PROGRAM)
    report = scan_json(cli)
    sdk = [f for f in report["findings"] if f["path"].startswith("third_party/")]
    own = [f for f in report["findings"] if f["path"].startswith("src/")]
    [component] = sdk
    assert component["sites"] > 5 and "vendored OptiX SDK (`third_party/raysdk/`)" in component["message"]
    assert component["severity"] == "warning" and component["fix"] is None
    rocm = component["targets"]["rocm"]
    assert rocm["status"] == "blocked" and rocm["source"].startswith("https://")
    assert len(own) > 1 and all(f["sites"] == 1 for f in own)


def test_a_folder_without_the_sdks_header_keeps_a_finding_per_site(cli, tmp_path):
    write(tmp_path / "third_party" / "raysdk" / "raysdk_types.h", TYPES)
    write(tmp_path / "third_party" / "raysdk" / "internal" / "raysdk_host.h", HOST)
    report = scan_json(cli)
    assert len(report["findings"]) > 2 and all("vendored" not in f["message"] for f in report["findings"])
