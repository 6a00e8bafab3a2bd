"""The calls a project's configuration files make of its classes: `target: pkg.encoders.TextEncoder`.

A model assembled from a YAML file names each part by its dotted path and the keyword arguments to
build it with, and a small helper of the project imports the class and calls it:

    cond_stage:
      target: pkg.encoders.TextEncoder
      params:
        freeze: true

builds `TextEncoder(freeze=True)`: every parameter the mapping leaves out (`device="cuda"`) takes its
default, on whatever path loads that file. No Python module calls the class, so `project_calls.py`
alone sees nobody take the default. This reading gives `calls_elsewhere` those calls, one per mention
(`CallShape`: no positional argument, the mapping's keys as keywords), for the three conventions in
use: `target` with `params` (latent-diffusion's `instantiate_from_config`), `class_path` with
`init_args` (Lightning's CLI), and Hydra's `_target_`, whose siblings are the keywords.

Only files that spell one of the names that default a parameter to CUDA are parsed (a byte search
in the index), and only mappings whose dotted path ends in such a name are read.
"""

from __future__ import annotations

from yaml.nodes import MappingNode, ScalarNode

from cudaudit.rules.orchestration.yamldoc import load_documents, mappings, pairs
from cudaudit.rules.python.project_calls import CallShape

_ARGUMENTS = {"target": "params", "class_path": "init_args", "_target_": None}
"""The key that names the class, with the key of the mapping of its keyword arguments (None: the
keys beside it, Hydra's)."""
_HYDRA_OPTIONS = frozenset({"_target_", "_partial_", "_recursive_", "_convert_", "_args_"})
"""Hydra's own keys beside `_target_`, which are no keyword arguments
(https://hydra.cc/docs/advanced/instantiate_objects/overview/)."""
_NULL_TAG = "tag:yaml.org,2002:null"


def configured_calls(text: str, names: frozenset[str]) -> tuple[tuple[str, CallShape], ...]:
    """(dotted path, the shape of the call it makes) for each mapping of the YAML `text` that names a
    class or function by a dotted path whose last part is one of `names`; raises UnparsableError for
    malformed YAML."""
    found = []
    for root in load_documents(text):
        for mapping in mappings(root):
            for key, value in pairs(mapping):
                if key.value not in _ARGUMENTS or not isinstance(value, ScalarNode):
                    continue
                dotted = str(value.value)
                module, _, name = dotted.rpartition(".")
                if not module or name not in names:
                    continue
                found.append((dotted, (0, _keywords(mapping, key.value), False)))
    return tuple(sorted(set(found)))


def _keywords(mapping: MappingNode, named_by: str) -> tuple[str, ...]:
    arguments = _ARGUMENTS[named_by]
    if arguments is None:
        return tuple(sorted(str(key.value) for key, _ in pairs(mapping) if key.value not in _HYDRA_OPTIONS))
    given = next((value for key, value in pairs(mapping) if key.value == arguments), None)
    if given is None or (isinstance(given, ScalarNode) and given.tag == _NULL_TAG):
        return ()
    if not isinstance(given, MappingNode):
        return ("**",)  # arguments this reading cannot list: any parameter may be among them
    return tuple(sorted(str(key.value) for key, _ in pairs(given)))
