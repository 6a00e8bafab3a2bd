"""`call-argument` keys: library switches and devices, matched by callee, argument and value."""

from __future__ import annotations

import pytest

from cudaudit.model import Severity
from cudaudit.rules.catalog import CatalogError, load_catalog
from cudaudit.rules.python.concerns.call_arguments import DETECTOR, parse_key
from support import analyze


def sites(code: str, targets: tuple[str, ...] = ("rocm", "cpu")) -> list[tuple[str, int, str]]:
    lines = code.split("\n")
    return [
        (f.rule, f.span.line, lines[f.span.line - 1][f.span.column - 1 : f.span.end_column - 1])
        for f in analyze(code, targets=targets)
    ]


def test_every_catalog_key_parses():
    keys = load_catalog().keys(DETECTOR)
    assert keys and all(parse_key(key).name for key in keys)


@pytest.mark.parametrize("key", ["transformers.TrainingArguments", "x(tf32=maybe)", "(a=1)"])
def test_a_malformed_key_is_a_catalog_error(key):
    with pytest.raises(CatalogError):
        parse_key(key)


def test_the_librarys_own_facts_replace_the_generic_device_string():
    code = 'import xgboost as xgb\nfrom faster_whisper import WhisperModel\nclf = xgb.XGBRegressor(device="cuda")\nm = WhisperModel("small", "cuda")\n'
    assert sites(code) == [("CDA220", 3, '"cuda"'), ("CDA220", 4, '"cuda"')]
    [xgboost] = [f for f in analyze(code, targets=("cpu",)) if f.span.line == 3]
    assert xgboost.severity is Severity.NOTE, "XGBoost falls back to the CPU on a CPU host"


def test_a_positional_argument_counts_only_at_its_index_and_before_any_star():
    code = 'import ctranslate2\nargs = ["m"]\nctranslate2.Translator("cuda", "cpu")\nctranslate2.Translator(*args, "cuda")\n'
    assert sites(code) == []


def test_values_chosen_at_run_time_are_not_reported():
    code = (
        "import torch\n"
        "from transformers import AutoModel\n"
        "from transformers.utils import is_flash_attn_2_available\n"
        'a = AutoModel.from_pretrained("m", attn_implementation="flash_attention_2" if is_flash_attn_2_available() else "eager")\n'
        'b = AutoModel.from_pretrained("m", attn_implementation="flash_attention_2" if args.fast else "sdpa")\n'
    )
    assert sites(code) == [("CDA219", 5, '"flash_attention_2"')], "a person's choice is still reported"


def test_settings_written_before_they_are_passed_and_comparisons_that_only_check():
    code = (
        "import onnxruntime as ort\n"
        'self.providers = ["CUDAExecutionProvider"]\n'
        'kwargs["attn_implementation"] = "flash_attention_3"\n'
        'use_gpu = "CUDAExecutionProvider" in ort.get_available_providers()\n'
        'if attn_implementation == "flash_attention_2":\n'
        "    pass\n"
        'options = {"providers": ["TensorrtExecutionProvider"]}\n'
    )
    assert sites(code) == [
        ("CDA221", 2, '"CUDAExecutionProvider"'),
        ("CDA219", 3, '"flash_attention_3"'),
        ("CDA221", 7, '"TensorrtExecutionProvider"'),
    ]


def test_configuration_dicts_of_other_frameworks_are_not_transformers_calls():
    """A training framework's config tests hold such values without loading a model."""
    code = (
        "from axolotl.utils.dict import DictDefault\n"
        'cfg = DictDefault(attn_implementation="flash_attention_2", sample_packing=True)\n'
        'result = normalize({"attn_implementation": "flash_attention_2", "flash_attention": True})\n'
    )
    assert sites(code) == []


def test_a_named_callee_needs_the_import_and_literal_types_must_agree():
    code = (
        "from transformers import TrainingArguments\n"
        "class TrainingArgumentsLike:\n"
        "    pass\n"
        'TrainingArgumentsLike(tf32=True)\nTrainingArguments("o", tf32=1)\nTrainingArguments("o", tf32=True)\n'
    )
    assert sites(code) == [("CDA219", 6, "True")]


def test_a_setting_named_for_flash_attention_opts_in():
    code = (
        "if args.use_flash_attn:\n"
        '    kwargs["attn_implementation"] = "flash_attention_2"\n'
        "if config.flash_attention:\n"
        '    attn_implementation = "flash_attention_2"\n'
    )
    findings = [f for f in analyze(code) if f.rule == "CDA219"]
    assert [f.span.line for f in findings] == [2, 4]
    for finding in findings:
        assert finding.targets["cpu"].severity is Severity.NOTE, "CPU hosts never take the branch"
        assert finding.targets["rocm"].severity is Severity.WARNING, "flash-attn has a ROCm build for some GPUs"
