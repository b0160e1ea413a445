"""EBDA entropy balancing: pull every pixel's prediction entropy toward H_b.

``L_EB = lambda * mean_x (H(x) - H_b)^2`` with ``H(x) = -sum_c p_c ln p_c``
(nats) over all pixels of all mixed images: no pseudo-weight, no ignore
mask. Over-confident pixels (H < H_b) are pushed up, uncertain ones down.
"""
from typing import Dict, List

import torch
import torch.nn.functional as F

from mmseg.models.uda.parts.context import ExtraLoss, UDAStepContext
from mmseg.registry import MODELS


def pixel_entropy(logits: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of ``softmax(logits)`` over dim 1: ``[B, H, W]``."""
    log_p = F.log_softmax(logits.float(), dim=1)
    return -(log_p.exp() * log_p).sum(dim=1)


def entropy_balance_loss(logits: torch.Tensor,
                         target_entropy: float = 0.4) -> torch.Tensor:
    """``mean (H - target_entropy)^2`` over all pixels of ``logits``
    (``[B, C, H, W]``)."""
    return (pixel_entropy(logits) - target_entropy).pow(2).mean()


@MODELS.register_module()
class EntropyBalance(ExtraLoss):
    """EBDA's entropy balancing loss on a second student pass of the mix.

    The student predicts the mixed images with ``encode_decode`` (logits at
    the input size; for HRDA the fused multi-scale output), every iteration.

    Args:
        loss_weight: lambda (0.1 in EBDA).
        target_entropy: H_b in nats (0.4 in EBDA).
    """
    prefix = 'eb'

    def __init__(self,
                 loss_weight: float = 0.1,
                 target_entropy: float = 0.4) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)
        self.target_entropy = float(target_entropy)

    def losses(self, ctx: UDAStepContext) -> List[Dict[str, torch.Tensor]]:
        if ctx.mixed is None:
            raise ValueError('entropy_balance.py: EntropyBalance needs '
                             'ctx.mixed')
        img_metas = ctx.target.get('img_metas')
        logits = ctx.student.encode_decode(ctx.mixed.img, img_metas)
        entropy = pixel_entropy(logits)
        loss = (entropy - self.target_entropy).pow(2).mean()
        return [
            dict(loss_eb=self.loss_weight * loss,
                 mean_entropy=entropy.mean().detach())
        ]
