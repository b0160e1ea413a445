"""Autocast around network forwards, and fp32 islands inside them.

Network forwards may run under ``torch.autocast`` (bf16/fp16, ``--amp``):
:func:`autocast_context` gives the autocast the optimiser wrapper trains
with, for the forwards outside its ``optim_context`` (teachers, frozen
networks). Statistics computed from their outputs (class prototypes,
perceptual distances, similarity EMAs) must not run in low precision:
:func:`full_precision` turns autocast off for a block; inputs are cast with
``.float()`` inside it.
"""
from contextlib import nullcontext
from typing import Any, ContextManager

import torch
from mmengine.optim import AmpOptimWrapper
from torch import nn


def model_device_type(model: nn.Module) -> str:
    """``'cuda'``/``'cpu'``/...: the device type of the model's parameters."""
    for param in model.parameters():
        return param.device.type
    return 'cpu'


def autocast_context(optim_wrapper: Any, model: nn.Module) -> ContextManager:
    """The autocast ``optim_wrapper`` trains with, for forwards outside
    ``optim_wrapper.optim_context`` (teachers, frozen networks).

    A wrapper with an ``autocast(model)`` method (our
    ``MixedPrecisionOptimWrapper``) gives its own; mmengine's
    ``AmpOptimWrapper`` autocasts to its ``cast_dtype`` (fp16 by default);
    a full-precision wrapper gives a no-op context.
    """
    autocast = getattr(optim_wrapper, 'autocast', None)
    if callable(autocast):
        return autocast(model)
    if isinstance(optim_wrapper, AmpOptimWrapper):
        return torch.autocast(model_device_type(model),
                              dtype=optim_wrapper.cast_dtype or torch.float16)
    return nullcontext()


def full_precision(device_type: str) -> ContextManager:
    """A context in which autocast is off for ``device_type``
    (``'cpu'``/``'cuda'``): matrix products run in the inputs' dtype."""
    return torch.autocast(device_type, enabled=False)
