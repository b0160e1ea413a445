"""ClassMix: paste half of the source classes onto the target image."""
from typing import Optional

import torch
from torch import nn

from mmseg.models.uda.parts.context import (MixedBatch, PseudoLabels,
                                            UDAStepContext)
from mmseg.registry import MODELS

CLASSES_FROM = ('batch', 'sample')
IGNORE_INDEX = 255


def _random_subset(values: torch.Tensor, size: int,
                   generator: Optional[torch.Generator]) -> torch.Tensor:
    """``size`` distinct entries of ``values``, chosen uniformly."""
    device = generator.device if generator is not None else 'cpu'
    order = torch.randperm(values.numel(), generator=generator, device=device)
    return values[order[:size].to(values.device)]


def get_class_masks(labels: torch.Tensor,
                    generator: Optional[torch.Generator] = None,
                    classes_from: str = 'batch') -> torch.Tensor:
    """ClassMix masks ``[B, 1, H, W]`` (float, 1 = take the source pixel).

    For each sample, ``ceil(n / 2)`` of ``n`` candidate classes are chosen
    without replacement and the mask covers this sample's pixels of those
    classes. Candidates are, with ``classes_from``:

    - ``'batch'`` (reference quirk): the classes of the whole batch,
      including 255, so a sample may get classes it does not contain;
    - ``'sample'``: the classes of this sample, 255 excluded.
    """
    if classes_from not in CLASSES_FROM:
        raise ValueError(f'mixing.py: classes_from must be one of '
                         f'{CLASSES_FROM}, got {classes_from!r}')
    if labels.dim() == 3:
        labels = labels.unsqueeze(1)
    if labels.dim() != 4 or labels.shape[1] != 1:
        raise ValueError(f'mixing.py: labels must be [B, 1, H, W], got '
                         f'{tuple(labels.shape)}')
    batch_classes = torch.unique(labels)
    masks = []
    for label in labels:
        if classes_from == 'batch':
            candidates = batch_classes
        else:
            candidates = torch.unique(label)
            candidates = candidates[candidates != IGNORE_INDEX]
        n = candidates.numel()
        chosen = _random_subset(candidates, (n + n % 2) // 2, generator)
        masks.append(torch.isin(label, chosen))
    return torch.stack(masks).float()


def class_mix(mask: torch.Tensor, src_img: torch.Tensor, tgt_img: torch.Tensor,
              src_label: torch.Tensor, tgt_label: torch.Tensor,
              tgt_weight: torch.Tensor) -> MixedBatch:
    """``M*source + (1-M)*target`` for images, labels and weights.

    Shapes: ``mask [B, 1, H, W]``, images ``[B, 3, H, W]``, labels
    ``[B, 1, H, W]`` or ``[B, H, W]``, ``tgt_weight [B, H, W]``; source
    pixels get weight 1. Labels are mixed in float and cast back.
    """
    if src_label.dim() == 3:
        src_label = src_label.unsqueeze(1)
    if tgt_label.dim() == 3:
        tgt_label = tgt_label.unsqueeze(1)
    mask = mask.to(src_img.dtype)
    img = mask * src_img + (1 - mask) * tgt_img
    label = mask * src_label.to(mask.dtype) + \
        (1 - mask) * tgt_label.to(mask.dtype)
    label = label.round().to(src_label.dtype)
    mask_2d = mask[:, 0]
    weight = mask_2d * 1.0 + (1 - mask_2d) * tgt_weight
    return MixedBatch(img=img, label=label, weight=weight, mask=mask)


@MODELS.register_module(name='ClassMix')
class ClassMixer(nn.Module):
    """ClassMix of the source batch into the target batch (DACS).

    Called with the step context (``mixer(ctx)``) or with tensors
    (``mixer.mix(...)``); see :func:`get_class_masks` for ``classes_from``.
    """

    def __init__(self, classes_from: str = 'batch') -> None:
        super().__init__()
        if classes_from not in CLASSES_FROM:
            raise ValueError(f'mixing.py: classes_from must be one of '
                             f'{CLASSES_FROM}, got {classes_from!r}')
        self.classes_from = classes_from

    @torch.no_grad()
    def mix(self,
            src_img: torch.Tensor,
            src_label: torch.Tensor,
            tgt_img: torch.Tensor,
            pseudo: PseudoLabels,
            generator: Optional[torch.Generator] = None) -> MixedBatch:
        masks = get_class_masks(src_label, generator, self.classes_from)
        return class_mix(masks, src_img, tgt_img, src_label, pseudo.label,
                         pseudo.weight)

    def forward(self,
                ctx: UDAStepContext,
                generator: Optional[torch.Generator] = None) -> MixedBatch:
        if ctx.pseudo is None:
            raise ValueError('mixing.py: ClassMix needs ctx.pseudo')
        return self.mix(ctx.source['img'], ctx.source['gt_semantic_seg'],
                        ctx.target['img'], ctx.pseudo, generator)
