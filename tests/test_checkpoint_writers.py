"""A load of a file that every save of the project fills with CPU values only is no finding (`rules/python/checkpoint_writers.py`)."""

from __future__ import annotations

from cudaudit.rules.python.checkpoint_writers import cpu_saved_files, saved_files
from support import analyze

FINETUNE = '''import os
import torch


def load_datasets(data_dir):
    train = torch.load(os.path.join(data_dir, "train.pt"))
    weights = torch.load(f"{data_dir}/base.pth")
    return train, weights
'''
PREPARE = '''import torch
from pathlib import Path


def prepare(out: Path, tokenizer, rows):
    samples = [{"ids": tokenizer.encode(row)} for row in rows]
    torch.save(samples, out / "train.pt")
'''
CONVERT = '''import torch


def convert(source, out):
    weights = torch.load(source, map_location="cpu")
    torch.save({k.replace("a.", "b."): v for k, v in weights.items()}, f"{out}/base.pth")
'''
MERGE = '''import torch


def merge(model, out):
    model.to(model.device)
    torch.save(model.state_dict(), out + "/base.pth")
'''


def loads(files: dict[str, str]) -> list[int]:
    return [f.span.line for f in analyze(FINETUNE, path="finetune.py", files=files) if f.rule == "CDA115"]


def test_files_written_only_from_cpu_values_elsewhere_load_anywhere():
    assert loads({"prepare_data.py": PREPARE, "convert_weights.py": CONVERT}) == []


def test_a_writer_that_names_a_device_keeps_the_warning():
    assert loads({"prepare_data.py": PREPARE, "convert_weights.py": CONVERT, "merge.py": MERGE}) == [7]
    unplaced = CONVERT.replace(', map_location="cpu"', "")
    assert loads({"prepare_data.py": PREPARE, "convert_weights.py": unplaced}) == [7]


def test_names_no_writer_or_only_a_test_writes_are_kept():
    assert loads({}) == [6, 7]
    assert loads({"tests/test_prepare.py": PREPARE}) == [6, 7]


def test_a_save_moved_to_the_cpu_counts_in_a_module_that_names_devices():
    moved = 'import torch\n\n\ndef dump(model, out):\n    torch.save(model.cuda().cpu(), out / "train.pt")\n'
    assert saved_files("dump.py", moved.encode()) == (("train.pt", True),)
    assert saved_files("dump.py", b'import torch\ntorch.save(x, f"{name}.pt")\n') == ()
    assert saved_files("dump.py", b"import os\n") == ()
    assert cpu_saved_files([(("a.pt", True), ("b.pt", True)), (("b.pt", False),)]) == frozenset({"a.pt"})


PREPROCESS = '''import librosa
import torch

from mel import spectrogram

hps = load_settings("config.json")
rate = hps.data.sampling_rate


def process_one(filename, encoder, device):
    wav, sr = librosa.load(filename, sr=rate)
    audio = torch.FloatTensor(wav).unsqueeze(0)
    units = encoder.encode(torch.from_numpy(wav).to(device))
    torch.save(units.cpu(), filename + ".soft.pt")
    spec = spectrogram(audio, hps.data.n_fft, audio.shape[-1])
    spec = torch.squeeze(spec, 0)
    torch.save(spec, filename.replace(".wav", ".spec.pt"))
'''
"""A preprocessing step that names a device: the units it moves back to the CPU, the spectrogram it
builds from loaded audio and settings, never moved."""
DATASET = '''import os
import torch

from mel import spectrogram


class Speech(torch.utils.data.Dataset):
    def __init__(self, hparams):
        self.n_fft = hparams.data.n_fft

    def get_audio(self, filename):
        spec_path = filename.replace(".wav", ".spec.pt")
        if os.path.exists(spec_path):
            spec = torch.load(spec_path)
        else:
            spec = torch.squeeze(spectrogram(load_audio(filename), self.n_fft), 0)
            torch.save(spec, spec_path)
        units = torch.load(filename + ".soft.pt")
        codes = torch.load(quant_path(filename))
        return spec, units, codes, torch.load("samples/first.qnt.pt")


def quant_path(filename):
    return filename.replace(".wav", ".qnt.pt")
'''
"""A dataset that loads the caches the preprocessing wrote, through a name, a helper and a literal file of the pattern."""
QUANTIZE = 'import torch\n\n\ndef dump(codes, filename):\n    torch.save(codes.cpu(), filename.replace(".wav", ".qnt.pt"))\n'


def cache_loads(files: dict[str, str]) -> list[int]:
    every = {"README.md": "A project.\n", **files}
    return [f.span.line for f in analyze(DATASET, path="dataset.py", files=every) if f.rule == "CDA115"]


def test_caches_the_preprocessing_built_on_the_cpu_load_anywhere():
    assert cache_loads({"preprocess.py": PREPROCESS, "quantize.py": QUANTIZE}) == []
    assert saved_files("preprocess.py", PREPROCESS.encode()) == ((".soft.pt", True), (".spec.pt", True))


def test_a_cache_of_a_model_output_or_of_a_module_moved_in_place_keeps_the_warning():
    on_gpu = PREPROCESS.replace("units.cpu()", "units")
    assert cache_loads({"preprocess.py": on_gpu, "quantize.py": QUANTIZE}) == [18]
    moved = PREPROCESS.replace("    spec = torch.squeeze(spec, 0)\n", "    spec = torch.squeeze(spec, 0)\n    spec.cuda()\n")
    assert saved_files("preprocess.py", moved.encode())[1] == (".spec.pt", False)
    placed = PREPROCESS.replace("audio.shape[-1])", "audio.shape[-1], device=device)")
    assert saved_files("preprocess.py", placed.encode())[1] == (".spec.pt", False)


def test_a_file_of_a_pattern_saved_from_a_gpu_drops_the_pattern():
    assert cache_loads({"preprocess.py": PREPROCESS}) == [19, 20]  # no writer of ".qnt.pt"
    gpu_sample = 'import torch\n\n\ndef keep(model):\n    torch.save(model.cuda().half(), "samples/first.qnt.pt")\n'
    assert cache_loads({"preprocess.py": PREPROCESS, "quantize.py": QUANTIZE, "sample.py": gpu_sample}) == [19, 20]
    assert cpu_saved_files([((".qnt.pt", True),), (("first.qnt.pt", False),)]) == frozenset()
    assert saved_files("dump.py", b'import torch\ntorch.save(x.cpu(), path + ".pt")\n') == ()


def test_a_cache_of_a_module_level_model_keeps_the_warning():
    # `hmodel` is a model moved to the GPU at import: what it computes, and its weights, are not CPU values
    called = (
        "import torch\nfrom hubert import Hubert\n\nhmodel = Hubert().cuda()\n\n\n"
        "def process(f, wav):\n    torch.save(hmodel(torch.FloatTensor(wav)), f.replace('.wav', '.soft.pt'))\n"
    )
    weights = (
        "import torch\nfrom hubert import Hubert\n\nmodel = Hubert().cuda()\n\n\n"
        "def process(f):\n    torch.save(model.encoder.weight, f.replace('.wav', '.enc.pt'))\n"
    )
    assert saved_files("preprocess.py", called.encode()) == ((".soft.pt", False),)
    assert saved_files("preprocess.py", weights.encode()) == ((".enc.pt", False),)
