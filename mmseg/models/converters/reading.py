"""Reading a weight file: torch checkpoints and ``.safetensors``."""
from typing import Dict

import torch

from mmseg.utils.checkpoint_io import (CheckpointLoadError,
                                       extract_state_dict,
                                       load_checkpoint_file)

SAFETENSORS_MAGIC_OFFSET = 8  # u64 header length, then a JSON header


def is_safetensors(filename: str) -> bool:
    """True for a ``.safetensors`` file (by name, or by its JSON header)."""
    if filename.endswith('.safetensors'):
        return True
    with open(filename, 'rb') as f:
        head = f.read(SAFETENSORS_MAGIC_OFFSET + 2)
    return len(head) == SAFETENSORS_MAGIC_OFFSET + 2 and \
        head[SAFETENSORS_MAGIC_OFFSET:] == b'{"'


def read_safetensors(filename: str) -> Dict[str, torch.Tensor]:
    """All tensors of a ``.safetensors`` file (needs ``safetensors``)."""
    try:
        from safetensors.torch import load_file
    except ImportError as err:
        raise CheckpointLoadError(
            f'{filename}: reading .safetensors files needs the safetensors '
            'package (pip install safetensors)') from err
    try:
        return load_file(filename, device='cpu')
    except Exception as err:  # noqa: BLE001 - re-raised as one line
        raise CheckpointLoadError(
            f'{filename} is not a readable .safetensors file: {err}') from err


def read_weights(filename: str) -> Dict[str, torch.Tensor]:
    """The tensors of ``filename``: ``.safetensors``, or a torch checkpoint
    (bare state dict or one under ``state_dict``/``model``), read with
    weights-only unpickling.

    Raises:
        CheckpointLoadError: missing, unreadable or non-weight file.
    """
    import os.path as osp
    if not osp.isfile(filename):
        raise CheckpointLoadError(f'weight file not found: {filename}')
    if is_safetensors(filename):
        return read_safetensors(filename)
    state = extract_state_dict(load_checkpoint_file(filename), filename)
    return {k: v for k, v in state.items() if torch.is_tensor(v)}
