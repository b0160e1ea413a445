"""Pixel-wise cross-entropy with optional pixel weights (mmseg 0.16)."""
from typing import List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmseg.registry import MODELS


def weighted_cross_entropy(logits: torch.Tensor,
                           label: torch.Tensor,
                           weight: Optional[torch.Tensor] = None,
                           class_weight: Optional[torch.Tensor] = None,
                           ignore_index: int = 255) -> torch.Tensor:
    """Mean over **all** pixels of ``CE(reduction='none') * weight``.

    Ignored pixels contribute zero but still count in the mean, as in
    mmseg 0.16 (the scale that DACS pseudo-label weights were tuned for).

    Args:
        logits: ``[B, C, H, W]`` scores.
        label: ``[B, H, W]`` class indices, ``ignore_index`` ignored.
        weight: optional ``[B, H, W]`` (or ``[B, 1, H, W]``) pixel weights.
        class_weight: optional ``[C]`` class weights of ``F.cross_entropy``.
        ignore_index: label value without loss.
    """
    loss = F.cross_entropy(
        logits.float(), label.long(), weight=class_weight,
        reduction='none', ignore_index=ignore_index)
    if weight is not None:
        if weight.dim() == loss.dim() + 1:
            weight = weight.squeeze(1)
        loss = loss * weight.float()
    return loss.mean()


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross-entropy loss module configured like mmseg's.

    Args:
        use_sigmoid: must be False (binary/sigmoid CE is not supported).
        class_weight: optional per-class weights.
        loss_weight: factor on the loss.
    """

    def __init__(self,
                 use_sigmoid: bool = False,
                 use_mask: bool = False,
                 class_weight: Optional[List[float]] = None,
                 loss_weight: float = 1.0,
                 reduction: str = 'mean') -> None:
        super().__init__()
        if use_sigmoid or use_mask:
            raise ValueError('CrossEntropyLoss: only softmax CE is supported '
                             '(use_sigmoid=False, use_mask=False)')
        if reduction != 'mean':
            raise ValueError(f'CrossEntropyLoss: reduction {reduction!r} is '
                             "not supported, only 'mean'")
        self.loss_weight = loss_weight
        self.class_weight = class_weight

    def forward(self,
                logits: torch.Tensor,
                label: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                ignore_index: int = 255) -> torch.Tensor:
        class_weight = None
        if self.class_weight is not None:
            class_weight = logits.new_tensor(self.class_weight).float()
        return self.loss_weight * weighted_cross_entropy(
            logits, label, weight, class_weight, ignore_index)
