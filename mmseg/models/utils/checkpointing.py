"""Activation checkpointing of a sub-network (``with_cp=True``).

:func:`checkpointed` runs ``fn(*args)`` through ``torch.utils.checkpoint``
(non-reentrant): the activations inside ``fn`` are not kept for backward but
recomputed from ``args`` when the gradient needs them. Gradients are those of
the plain call (dropout/drop-path draw the same masks: the RNG state is
replayed). BatchNorm layers inside ``fn`` would update their running
statistics a second time during the recomputation; their buffers are saved
before and restored after it, so the statistics match a run without
checkpointing too.
"""
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, Optional

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint


def should_checkpoint(enabled: bool, module: nn.Module) -> bool:
    """Checkpoint only where it saves memory: training with autograd on."""
    return enabled and module.training and torch.is_grad_enabled()


@contextmanager
def kept_batchnorm_stats(module: Optional[nn.Module]) -> Iterator[None]:
    """Restore the BN running statistics of ``module`` on exit."""
    saved: Dict[str, torch.Tensor] = {}
    if module is not None:
        for name, sub in module.named_modules():
            if isinstance(sub, _BatchNorm) and sub.track_running_stats:
                for key, buf in sub.named_buffers(recurse=False):
                    if buf is not None:
                        saved[f'{name}.{key}'] = buf.detach().clone()
    try:
        yield
    finally:
        if saved:
            buffers = dict(module.named_buffers())
            with torch.no_grad():
                for key, value in saved.items():
                    buffers[key].copy_(value)


def checkpointed(fn: Callable[..., torch.Tensor], *args: torch.Tensor,
                 stats_module: Optional[nn.Module] = None) -> torch.Tensor:
    """``fn(*args)`` with its activations recomputed in backward.

    Args:
        fn: the sub-network call; tensors it needs must be in ``args`` or be
            parameters/buffers of modules it closes over.
        args: its inputs (tensors or plain values).
        stats_module: the module holding ``fn``'s BatchNorm layers, whose
            running statistics must not be updated by the recomputation.
    """
    calls = [0]

    def run(*inputs):
        calls[0] += 1
        if calls[0] == 1:
            return fn(*inputs)
        with kept_batchnorm_stats(stats_module):  # the recomputation
            return fn(*inputs)

    return checkpoint(run, *args, use_reentrant=False)
