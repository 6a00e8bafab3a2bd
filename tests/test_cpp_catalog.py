"""The generated CUDA API table: rebuilt from HIPIFY's tables it matches the shipped file,
its rows say what HIPIFY's tables say, and the hand-written gaps fill what they lack."""

from __future__ import annotations

import pytest

from cudaudit.rules.catalog import load_catalog
from cudaudit.rules.kernels import generate_catalog
from cudaudit.rules.kernels.api_table import api_table
from support import REPO

SHIPPED = REPO / "rules" / "data" / "cuda_api.toml"
TABLES = generate_catalog.DEFAULT_TABLES


def test_the_shipped_table_is_what_the_generator_writes(tmp_path):
    output = tmp_path / "cuda_api.toml"
    assert generate_catalog.main(["--output", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == SHIPPED.read_text(encoding="utf-8"), (
        "rules/data/cuda_api.toml is stale: run `python -m cudaudit.rules.kernels.generate_catalog`"
    )


def test_every_renamed_table_row_is_in_the_table():
    """A row of HIPIFY's runtime table with a different HIP name is a CDA401 name with that name."""
    table = api_table(load_catalog())
    path = TABLES / "CUDA_Runtime_API_functions_supported_by_HIP.md"
    rows = list(generate_catalog.read_table(path))
    assert len(rows) > 1000
    for cuda, (hip, *_) in rows:
        entry = table.name(cuda.name)
        if hip.name and hip.name != cuda.name and not hip.removed:
            assert entry is not None and entry.rule.id == "CDA401", cuda.name
            assert f"`{hip.name}`" in entry.targets["rocm"].replacement
        elif not hip.name:
            assert entry is not None and entry.rule.id == "CDA402", cuda.name


def test_names_hip_spells_the_same_are_not_references():
    table = api_table(load_catalog())
    assert table.name("__syncthreads") is None
    assert table.name("__hmax2") is None  # HIPIFY 6.3 lists none, HIP 6.3's hip_bf16.h has it
    assert table.name("ncclAllReduce").targets["rocm"].status.value == "works"


def test_library_rows_name_the_rocm_library():
    table = api_table(load_catalog())
    sgemm = table.name("cublasSgemm")
    assert sgemm.rule.id == "CDA403"
    assert sgemm.targets["rocm"].replacement == "`hipblasSgemm` (hipBLAS) or `rocblas_sgemm` (rocBLAS)"
    assert "MIOpen" in table.name("cudnnCreate").targets["rocm"].replacement
    assert table.name("nvtxRangePushA").targets["rocm"].replacement.startswith("`roctxRangePushA`")
    assert table.name("nvtxDomainCreateA").targets["rocm"].status.value == "blocked"
    assert "AMD SMI" in table.name("nvmlDeviceGetCount_v2").targets["rocm"].replacement
    assert table.name("nvtx_range") is None and table.name("nccl_comm") is None  # a project's own names
    tensor_op = table.name("CUBLAS_GEMM_DEFAULT_TENSOR_OP")  # no HIPIFY row; PyTorch's hipify renames it
    assert (tensor_op.rule.id, tensor_op.targets["rocm"].status.value) == ("CDA403", "change")
    assert tensor_op.targets["rocm"].replacement.startswith("`HIPBLAS_GEMM_DEFAULT`")


def test_headers():
    table = api_table(load_catalog())
    assert table.include("cuda_runtime.h").targets["rocm"].replacement == "`<hip/hip_runtime.h>`"
    assert table.include("curand_kernel.h").targets["rocm"].replacement.startswith("`<hiprand/hiprand_kernel.h>`")
    assert table.include("cutlass/gemm/device/gemm.h").targets["rocm"].status.value == "blocked"
    assert table.include("thrust/system/cuda/execution_policy.h").targets["rocm"].status.value == "change"
    assert table.include("thrust/sort.h").targets["rocm"].status.value == "works"
    assert table.include("vector") is None


def test_the_generator_refuses_a_missing_tables_folder(tmp_path, capsys):
    with pytest.raises(SystemExit):
        generate_catalog.main(["--tables", str(tmp_path / "nowhere"), "--output", str(tmp_path / "x.toml")])
    assert "--tables" in capsys.readouterr().err


def test_the_table_is_one_string_for_the_catalog_parser():
    """Thousands of names cost one TOML string, not thousands of tables, in every scan."""
    text = SHIPPED.read_text(encoding="utf-8")
    assert text.count("[[entry]]") == 0
    assert text.count("\n") > 8000
