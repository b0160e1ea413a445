"""fp32 islands inside a mixed-precision (autocast) forward.

Network forwards may run under ``torch.autocast`` (bf16/fp16, ``--amp``);
statistics computed from their outputs (class prototypes, perceptual
distances, similarity EMAs) must not. :func:`full_precision` turns autocast
off for a block; inputs are cast with ``.float()`` inside it.
"""
from typing import ContextManager

import torch


def full_precision(device_type: str) -> ContextManager:
    """A context in which autocast is off for ``device_type``
    (``'cpu'``/``'cuda'``): matrix products run in the inputs' dtype."""
    return torch.autocast(device_type, enabled=False)
