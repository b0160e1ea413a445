"""Loading of pretrained backbones and released segmentor checkpoints.

Every load goes through :func:`mmseg.utils.checkpoint_io.load_checkpoint_file`
(weights-only unpickling unless ``trusted``). Both loaders are strict: a
missing key, an unexpected key or a shape mismatch raises
:class:`CheckpointLoadError` naming the file and the first offending keys.
"""
from typing import Dict, Iterable, List, Sequence

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmseg.utils.checkpoint_io import (CONVERT_HINT, CheckpointLoadError,
                                       extract_state_dict,
                                       load_checkpoint_file)

# ImageNet classifier weights of backbone checkpoints (SegFormer: head.*,
# torchvision/mmcls-style ResNets: fc.*).
CLASSIFIER_PREFIXES = ('head.', 'fc.')
# In a UDA checkpoint the student segmentor's keys start with this; the
# teacher, ImageNet model and plug-ins live under other prefixes.
STUDENT_PREFIX = 'model.'
WRAPPER_PREFIXES = ('module.', 'model.')
MAX_KEYS_IN_MESSAGE = 5


def strip_prefix(state_dict: Dict[str, torch.Tensor],
                 prefixes: Sequence[str]) -> Dict[str, torch.Tensor]:
    """Remove a wrapper prefix that every key carries (repeatedly)."""
    changed = True
    while changed and state_dict:
        changed = False
        for prefix in prefixes:
            if all(k.startswith(prefix) for k in state_dict):
                state_dict = {k[len(prefix):]: v
                              for k, v in state_dict.items()}
                changed = True
    return state_dict


def _first(keys: Iterable[str]) -> str:
    keys = sorted(keys)
    more = len(keys) - MAX_KEYS_IN_MESSAGE
    shown = ', '.join(keys[:MAX_KEYS_IN_MESSAGE])
    return shown + (f' (+{more} more)' if more > 0 else '')


def check_state_dict(model: nn.Module, state_dict: Dict[str, torch.Tensor],
                     filename: str) -> None:
    """Raise unless ``state_dict`` fits ``model`` in keys and shapes."""
    own = model.state_dict()
    problems: List[str] = []
    missing = set(own) - set(state_dict)
    unexpected = set(state_dict) - set(own)
    if missing:
        problems.append(f'missing keys: {_first(missing)}')
    if unexpected:
        problems.append(f'unexpected keys: {_first(unexpected)}')
    mismatched = [
        f'{k} (checkpoint {tuple(getattr(state_dict[k], "shape", ()))} '
        f'vs model '
        f'{tuple(own[k].shape)})' for k in sorted(set(own) & set(state_dict))
        if torch.is_tensor(own[k])  # a module's extra state is no tensor
        and tuple(getattr(state_dict[k], 'shape', ())) != tuple(own[k].shape)
    ]
    if mismatched:
        problems.append('shape mismatch: ' +
                        '; '.join(mismatched[:MAX_KEYS_IN_MESSAGE]))
    if problems:
        raise CheckpointLoadError(
            f'{filename} does not fit {type(model).__name__}: ' +
            ' | '.join(problems))


def load_backbone_pretrained(backbone: nn.Module,
                             filename: str,
                             trusted: bool = False) -> None:
    """Load ImageNet weights (e.g. SegFormer ``mit_b5.pth``) into ``backbone``.

    The classifier (``head.*``/``fc.*``) is dropped with a log line; every
    other key must match the backbone exactly.
    """
    if '://' in filename:
        raise CheckpointLoadError(
            f'{filename}: remote checkpoints are not downloaded; download the '
            'file and set pretrained to its local path')
    state_dict = extract_state_dict(
        load_checkpoint_file(filename, trusted=trusted,
                             trust_hint=CONVERT_HINT), filename)
    state_dict = strip_prefix(dict(state_dict), WRAPPER_PREFIXES + (
        'backbone.', ))
    dropped = [k for k in state_dict if k.startswith(CLASSIFIER_PREFIXES)]
    if dropped:
        print_log(f'{filename}: dropped {len(dropped)} classifier keys '
                  f'({_first(dropped)})', logger='current')
    state_dict = {k: v for k, v in state_dict.items() if k not in dropped}
    check_state_dict(backbone, state_dict, filename)
    backbone.load_state_dict(state_dict, strict=True)
    print_log(f'Loaded {len(state_dict)} backbone tensors from {filename}',
              logger='current')


def _read_state_dict(filename: str,
                     trusted: bool) -> Dict[str, torch.Tensor]:
    """The state dict of a checkpoint file, a DDP ``module.`` prefix
    removed."""
    state_dict = extract_state_dict(
        load_checkpoint_file(filename, trusted=trusted), filename)
    return strip_prefix(dict(state_dict), ('module.', ))


def _load_strict(model: nn.Module, state_dict: Dict[str, torch.Tensor],
                 filename: str) -> Dict[str, torch.Tensor]:
    check_state_dict(model, state_dict, filename)
    model.load_state_dict(state_dict, strict=True)
    print_log(f'Loaded {len(state_dict)} tensors from {filename}',
              logger='current')
    return state_dict


def load_segmentor_checkpoint(model: nn.Module,
                              filename: str,
                              trusted: bool = False
                              ) -> Dict[str, torch.Tensor]:
    """Load a full DAFormer/HRDA segmentor checkpoint strictly into ``model``.

    Accepts a bare state dict or one under ``state_dict``/``model``; strips a
    ``module.``/``model.`` prefix. In a UDA checkpoint (HRDA's or this
    project's) the student is the ``model.*`` entries: teacher, ImageNet model
    and plug-in state are ignored. Returns the loaded dict.
    """
    state_dict = _read_state_dict(filename, trusted)
    if any(k.startswith(STUDENT_PREFIX) for k in state_dict):
        state_dict = {
            k: v
            for k, v in state_dict.items() if k.startswith(STUDENT_PREFIX)
        }
    return _load_strict(model, strip_prefix(state_dict, WRAPPER_PREFIXES),
                        filename)


def load_uda_checkpoint(model: nn.Module,
                        filename: str,
                        trusted: bool = False) -> Dict[str, torch.Tensor]:
    """Load a whole UDA checkpoint (student, teachers, plug-in state)
    strictly into the UDA wrapper ``model``. Returns the loaded dict."""
    return _load_strict(model, _read_state_dict(filename, trusted), filename)
