"""Collectives that keep cross-iteration state identical on every rank.

Thin wrappers over :mod:`mmengine.dist`. In a single process (no process
group, or a world of one) every function returns its input unchanged, so
the parts of the UDA step call them unconditionally and a one-process run is
bit-for-bit the same as without them.

Reductions are computed locally from an all-gather, summing the ranks'
values in rank order, so the result is bitwise the same on every rank and
from run to run, whatever the backend's reduction algorithm. They are meant
for small statistics (class counts, prototypes, BatchNorm buffers), not for
gradients (DDP reduces those).
"""
from typing import Any, List

import torch
from mmengine import dist
from torch import nn


def world_size() -> int:
    """Number of processes in the default group (1 without one)."""
    return dist.get_world_size()


def rank() -> int:
    """This process's rank in the default group (0 without one)."""
    return dist.get_rank()


def all_gather_list(tensor: torch.Tensor) -> List[torch.Tensor]:
    """Every rank's ``tensor``, in rank order, on ``tensor``'s device.

    The length of dim 0 may differ between ranks; the other dims and the
    dtype must agree. A 0-d tensor is gathered as is.
    """
    if world_size() == 1:
        return [tensor]
    if tensor.dim() == 0:
        return _gather_same_shape(tensor)
    sizes = _gather_same_shape(
        torch.tensor([tensor.shape[0]], dtype=torch.int64))
    lengths = [int(s) for s in sizes]
    longest = max(lengths)
    padded = tensor
    if tensor.shape[0] < longest:
        pad = tensor.new_zeros((longest - tensor.shape[0], ) +
                               tuple(tensor.shape[1:]))
        padded = torch.cat([tensor, pad])
    parts = _gather_same_shape(padded)
    return [part[:n] for part, n in zip(parts, lengths)]


def all_gather_cat(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenation along dim 0 of every rank's ``tensor`` (rank order).

    Shapes as :func:`all_gather_list`; ``tensor`` itself in one process.
    """
    if world_size() == 1:
        return tensor
    return torch.cat(all_gather_list(tensor))


def all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    """Sum over the ranks of ``tensor`` (same shape on every rank), added in
    rank order; ``tensor`` itself in one process."""
    if world_size() == 1:
        return tensor
    parts = _gather_same_shape(tensor)
    total = parts[0].clone()
    for part in parts[1:]:
        total += part
    return total


def all_reduce_mean(tensor: torch.Tensor) -> torch.Tensor:
    """Mean over the ranks of a floating ``tensor``: rank 0's value plus the
    mean of the differences to it (rank order), so equal values come back
    bit for bit; ``tensor`` itself in one process."""
    if world_size() == 1:
        return tensor
    parts = _gather_same_shape(tensor)
    spread = torch.zeros_like(parts[0])
    for part in parts[1:]:
        spread += part - parts[0]
    return parts[0] + spread / len(parts)


def all_gather_objects(obj: Any) -> List[Any]:
    """Every rank's picklable ``obj`` in rank order (``[obj]`` in one
    process). For small, irregular values such as a few object crops held
    as CPU tensors."""
    if world_size() == 1:
        return [obj]
    return dist.all_gather_object(obj)


@torch.no_grad()
def mean_buffers_(module: nn.Module) -> None:
    """Replace every floating buffer of ``module`` (BatchNorm running
    statistics) by its mean over the ranks, in place; integer buffers
    (``num_batches_tracked``) advance alike on every rank and are kept.
    One gather per dtype; nothing happens in one process."""
    if world_size() == 1:
        return
    by_dtype = {}
    for buf in module.buffers():
        if buf.is_floating_point():
            by_dtype.setdefault((buf.dtype, buf.device), []).append(buf)
    for bufs in by_dtype.values():
        flat = torch.cat([b.reshape(-1) for b in bufs])
        mean = all_reduce_mean(flat)
        for buf, value in zip(bufs, mean.split([b.numel() for b in bufs])):
            buf.copy_(value.view_as(buf))


def _gather_same_shape(tensor: torch.Tensor) -> List[torch.Tensor]:
    if tensor.dtype == torch.bool:  # not every backend reduces bools
        return [t.bool() for t in dist.all_gather(tensor.to(torch.uint8))]
    return dist.all_gather(tensor.contiguous())
