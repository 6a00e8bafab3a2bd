"""One finding per site, NVIDIA-only constructs once per file, counterparts: `cudaudit.verdicts`."""

from __future__ import annotations

from support import analyze, scan_json, write

CUTE_KERNEL = """#include <cute/tensor.hpp>
#include <cutlass/numeric_types.h>
using namespace cute;
template <class T> __global__ void k(T *p) {
    auto layout = cute::make_layout(cute::make_shape(8, 8));
    cutlass::half_t h;
    cute::Tensor t = cute::make_tensor(p, layout);
}
"""


def test_the_same_name_twice_on_a_line_is_one_finding():
    code = "void f(cublasHandle_t h) { cublasSgemm(h, CUBLAS_OP_N, CUBLAS_OP_N, 1, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1); }\n"
    assert [f.message.split("`")[1] for f in analyze(code, path="k.cu") if f.rule == "CDA403"] == [
        "cublasHandle_t", "cublasSgemm", "CUBLAS_OP_N",
    ]


def test_sites_a_fix_rewrites_are_never_merged():
    code = "import torch\nfoo(x.cuda(), x.cuda())\n"
    assert [f.span.column for f in analyze(code) if f.rule == "CDA102"] == [5, 15]


def test_an_nvidia_only_file_is_one_finding_per_construct_with_its_count():
    found = analyze(CUTE_KERNEL, path="hopper/k.cu")
    cute = [f for f in found if f.rule == "CDA415"]
    headers = [f for f in found if f.rule == "CDA404"]
    assert [(f.span.line, f.sites) for f in cute] == [(5, 3)]  # one site per line
    assert [(f.span.line, f.sites) for f in headers] == [(1, 2)]
    assert "3 sites in this file" in cute[0].message


def test_grouped_sites_count_in_the_migration_summary(cli, tmp_path):
    write(tmp_path / "k.cu", CUTE_KERNEL)
    totals = scan_json(cli)["summary"]["migration"]["total"]
    assert (totals["references"], totals["not_mappable"]) == (2, 2)
