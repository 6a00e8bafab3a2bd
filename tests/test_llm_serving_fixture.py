"""The llm-serving fixture: every layer's CUDA lock-in is found, the portable counterparts stay silent."""

from __future__ import annotations

from support import FIXTURES, scan_json

PROJECT = FIXTURES / "llm-serving"


def sites(report):
    return sorted({(f["path"].split("llm-serving/", 1)[1], f["line"], f["rule"]) for f in report["findings"]})


def test_each_layer_is_reported(cli):
    report = scan_json(cli, str(PROJECT))
    assert report["errors"] == []
    assert sites(report) == [
        # Serving images: TGI's CUDA stage, whose build steps are CUDA builds, and Triton's NGC image.
        ("Dockerfile", 1, "CDA507"),
        ("Dockerfile", 2, "CDA443"),
        ("Dockerfile", 4, "CDA509"),
        ("Dockerfile", 6, "CDA509"),
        ("Dockerfile", 8, "CDA503"),
        ("Makefile", 3, "CDA443"),
        ("Makefile", 4, "CDA211"),
        # vLLM, SGLang, llama.cpp and Ollama images.
        ("compose.yaml", 3, "CDA507"),
        ("compose.yaml", 7, "CDA507"),
        ("compose.yaml", 10, "CDA507"),
        ("compose.yaml", 13, "CDA507"),
        # vLLM, SGLang, TensorRT-LLM, ONNX Runtime, AutoGPTQ and Transformer Engine wheels.
        ("requirements.txt", 1, "CDA604"),
        ("requirements.txt", 2, "CDA604"),
        ("requirements.txt", 3, "CDA604"),
        ("requirements.txt", 4, "CDA604"),
        ("requirements.txt", 5, "CDA604"),
        ("requirements.txt", 6, "CDA604"),
        ("requirements.txt", 8, "CDA604"),  # bitsandbytes held at a release without ROCm wheels (CDA218 below)
        # cuML, TensorRT-LLM, Transformer Engine, ExLlamaV2, torch-int; device_map and RWKV's strategy.
        ("serve/engines.py", 2, "CDA206"),
        ("serve/engines.py", 3, "CDA205"),
        ("serve/engines.py", 4, "CDA215"),
        ("serve/engines.py", 5, "CDA217"),
        ("serve/engines.py", 7, "CDA217"),
        ("serve/engines.py", 12, "CDA103"),
        ("serve/engines.py", 16, "CDA220"),
        # Lines count within cells (the `cell` field); the markdown and raw cells and the output are not read.
        # `!nvidia-smi` (cell 2) is a note: IPython prints the failure and the notebook goes on.
        ("serve/explore.ipynb", 1, "CDA101"),
        ("serve/explore.ipynb", 2, "CDA102"),
        ("serve/explore.ipynb", 2, "CDA211"),
        ("serve/explore.ipynb", 2, "CDA601"),
        ("serve/explore.ipynb", 3, "CDA604"),
        ("serve/launch.sh", 3, "CDA211"),  # CUDA_VISIBLE_DEVICES there works on ROCm too: not reported
        ("serve/launch.sh", 5, "CDA507"),
        ("serve/launch.sh", 5, "CDA508"),
        ("serve/pipeline.py", 10, "CDA219"),
        ("serve/pipeline.py", 14, "CDA219"),
        ("serve/pipeline.py", 20, "CDA220"),
        ("serve/pipeline.py", 24, "CDA220"),
        ("serve/pipeline.py", 28, "CDA221"),
        ("serve/pipeline.py", 32, "CDA115"),  # CDA116, a note on every target, is shown with --show-portable
        ("serve/profile.sh", 4, "CDA211"),
        ("serve/profile.sh", 5, "CDA212"),
        ("serve/profile.sh", 6, "CDA211"),
        ("serve/profile.sh", 7, "CDA211"),
        ("serve/profile.sh", 8, "CDA211"),
        ("serve/profile.sh", 9, "CDA211"),
        ("serve/profile.sh", 10, "CDA211"),
        ("serve/profile.sh", 11, "CDA601"),
        ("serve/quantize.py", 2, "CDA217"),
        ("serve/quantize.py", 11, "CDA218"),
    ]


def test_notebook_findings_name_their_cells(cli):
    """Cells count among all cells: markdown cell 1 and raw cell 4 are skipped but counted; cell 6
    uses `torch` through cell 3's import."""
    report = scan_json(cli, str(PROJECT / "serve" / "explore.ipynb"))
    cells = sorted({(f["cell"], f["line"], f["rule"]) for f in report["findings"]})
    assert cells == [
        (2, 2, "CDA601"),
        (3, 2, "CDA102"),
        (5, 2, "CDA211"),
        (5, 3, "CDA604"),
        (6, 1, "CDA101"),
    ]


def test_portable_counterparts_are_silent(cli):
    """`map_location="cpu"`, `CPUExecutionProvider`, `attn_implementation="sdpa"`, `-rocm` and CPU image
    tags, safetensors, GGUF and ONNX files, CPU wheels, `device_map="auto"`, torchao's FP8 training."""
    report = scan_json(cli, str(PROJECT / "portable"))
    assert report["findings"] == [] and report["errors"] == []
    assert report["summary"]["files"] >= 9
