"""Input sizes a segmentor accepts, and zero padding up to them.

A network input side must be at least the backbone's smallest input
(MiT's strided key/value reductions need ``ceil(L / stride_i) >= sr_i``) and,
for multi-scale models, a multiple that puts every scaled copy of the image
on the head's output grid. Images that miss either are padded at the bottom
and right (zeros, i.e. the mean colour after normalisation, as
MMSegmentation's ``Pad``/``stack_batch``) and the logits cropped back, so
every image of at least 1x1 pixel gets a prediction of its own size.
Inputs that already fit are passed through untouched (bit-identical).
"""
import math
from typing import Sequence, Tuple

import torch
import torch.nn.functional as F


def backbone_min_input_size(backbone: torch.nn.Module) -> int:
    """Smallest input side (pixels) ``backbone`` accepts; 1 if it declares
    none (``min_input_size`` attribute)."""
    return int(getattr(backbone, 'min_input_size', 1))


def grid_multiple(stride: int, ratios: Sequence[float],
                  limit: int = 4096) -> int:
    """Smallest ``m >= 1`` with ``m * r / stride`` an integer for all ``r``.

    Example: HRDA's DAFormer head (stride 4) on scales ``[0.5, 1]``: 8, so
    the half-size copy of the image is a whole number of 4-px logit cells.

    Raises:
        ValueError: no such ``m`` up to ``limit`` (irrational-looking
            scales).
    """
    for m in range(1, limit + 1):
        if all(abs(m * r / stride - round(m * r / stride)) < 1e-6
               for r in ratios):
            return m
    raise ValueError(f'no input size up to {limit} px puts the scales '
                     f'{list(ratios)} on a grid of stride {stride}')


def round_up(value: int, multiple: int) -> int:
    """``value`` rounded up to a multiple of ``multiple``."""
    return int(math.ceil(value / multiple) * multiple)


def padded_side(side: int, multiple: int, minimum: int) -> int:
    """``side`` grown to at least ``minimum`` and to a multiple of
    ``multiple`` (unchanged when it already is both)."""
    return round_up(max(side, minimum), multiple)


def pad_bottom_right(img: torch.Tensor, multiple: int,
                     minimum: int) -> Tuple[torch.Tensor, bool]:
    """``img [B, C, H, W]`` zero-padded at the bottom/right to
    :func:`padded_side` per axis; returns ``(image, padded)``, the input
    object itself when no padding is needed."""
    h, w = img.shape[-2:]
    ph, pw = padded_side(h, multiple, minimum), padded_side(
        w, multiple, minimum)
    if (ph, pw) == (h, w):
        return img, False
    return F.pad(img, (0, pw - w, 0, ph - h), value=0.0), True
