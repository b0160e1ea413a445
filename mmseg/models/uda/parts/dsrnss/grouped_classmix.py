"""Grouped ClassMix (DSRNSS "dynamic mix"): ClassMix that keeps object groups.

Half of the candidate source classes are chosen per sample, as in ClassMix,
and then classes that co-occur physically are added so that objects are not
cut apart:

- traffic light (6) or traffic sign (7) chosen and pole (5) present -> pole;
- pole chosen -> traffic light and traffic sign, where present;
- rider (12) chosen -> bicycle (18) and motorcycle (17), where present.

"Present" means in the candidate set. The image, the label and the pixel
weight (1 on source pixels, the pseudo-label weight elsewhere) are mixed as
in DACS.
"""
from typing import Dict, List, Optional, Sequence

import torch
from torch import nn

from mmseg.models.uda.parts.context import (MixedBatch, PseudoLabels,
                                            UDAStepContext)
from mmseg.models.uda.parts.mixing import class_mix
from mmseg.registry import MODELS

POLE, LIGHT, SIGN, RIDER, MOTORCYCLE, BICYCLE = 5, 6, 7, 12, 17, 18
# DSRNSS's rules, in the reference order, as Cityscapes train ids.
DSRNSS_GROUPS = (dict(when=(LIGHT, SIGN), add=(POLE, )),
                 dict(when=(POLE, ), add=(LIGHT, SIGN)),
                 dict(when=(RIDER, ), add=(BICYCLE, MOTORCYCLE)))
IGNORE_INDEX = 255
CLASSES_FROM = ('batch', 'sample')


def add_cooccurring_classes(chosen: List[int], present: List[int],
                            groups: Sequence[Dict] = DSRNSS_GROUPS
                            ) -> List[int]:
    """Apply the group rules to ``chosen`` (a subset of ``present``).

    The rules are applied in order (DSRNSS: light/sign -> pole, then
    pole -> light/sign, then rider -> two-wheelers), so a chosen light also
    brings the sign through the pole. Returns a sorted list.
    """
    result = set(chosen)
    present = set(present)
    for rule in groups:
        if result & set(rule['when']):
            result.update(set(rule['add']) & present)
    return sorted(result)


def check_groups(groups: Sequence[Dict]) -> List[Dict]:
    """``groups`` as a list of ``dict(when=ids, add=ids)``.

    Raises:
        ValueError: a rule that is not a dict of exactly ``when`` and
            ``add``, or that names a class instead of a train id (names are
            resolved from the config's class set before the part is built).
    """
    out = []
    for i, rule in enumerate(groups):
        if not isinstance(rule, dict) or set(rule) != {'when', 'add'}:
            raise ValueError(f'grouped_classmix.py: groups[{i}] must be '
                             f"dict(when=[...], add=[...]), got {rule!r}")
        ids = {}
        for key in ('when', 'add'):
            values = rule[key]
            values = [values] if isinstance(values, (str, int)) else values
            if not all(isinstance(v, int) for v in values):
                raise ValueError(f'grouped_classmix.py: groups[{i}].{key} '
                                 f'must be train ids, got {values!r}')
            ids[key] = tuple(values)
        out.append(ids)
    return out


def _random_subset(values: torch.Tensor, size: int,
                   generator: Optional[torch.Generator]) -> torch.Tensor:
    device = generator.device if generator is not None else 'cpu'
    order = torch.randperm(values.numel(), generator=generator, device=device)
    return values[order[:size].to(values.device)]


@MODELS.register_module()
class GroupedClassMix(nn.Module):
    """ClassMix with the DSRNSS co-occurrence groups (see module docstring).

    Args:
        classes_from: candidate classes of a sample: ``'sample'`` = the
            classes of that sample's label (the released DSRNSS code), or
            ``'batch'`` = the classes of the whole source batch (the DACS
            ClassMix quirk).
        include_ignore: keep 255 among the candidates (both reference
            variants do; a chosen 255 pastes the source's unlabelled pixels
            with label 255).
        mix_loss_weight: factor the step multiplies the mixed-image loss by:
            1.0 by default, 0.8 in the DSRNSS HRDA configs.
        groups: the co-occurrence rules (module docstring), train ids;
            DSRNSS's Cityscapes rules by default.
    """

    def __init__(self,
                 classes_from: str = 'sample',
                 include_ignore: bool = True,
                 mix_loss_weight: float = 1.0,
                 groups: Sequence[Dict] = DSRNSS_GROUPS) -> None:
        super().__init__()
        self.groups = check_groups(groups)
        if classes_from not in CLASSES_FROM:
            raise ValueError(f'grouped_classmix.py: classes_from must be one '
                             f'of {CLASSES_FROM}, got {classes_from!r}')
        self.classes_from = classes_from
        self.include_ignore = include_ignore
        self.mix_loss_weight = float(mix_loss_weight)

    def _candidates(self, label: torch.Tensor,
                    batch_classes: torch.Tensor) -> torch.Tensor:
        classes = (batch_classes
                   if self.classes_from == 'batch' else torch.unique(label))
        if not self.include_ignore:
            classes = classes[classes != IGNORE_INDEX]
        return classes

    def class_masks(
            self,
            labels: torch.Tensor,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Mix masks ``[B, 1, H, W]`` (float, 1 = source pixel)."""
        if labels.dim() == 3:
            labels = labels.unsqueeze(1)
        if labels.dim() != 4 or labels.shape[1] != 1:
            raise ValueError('grouped_classmix.py: labels must be '
                             f'[B, 1, H, W], got {tuple(labels.shape)}')
        batch_classes = torch.unique(labels)
        masks = []
        for label in labels:
            candidates = self._candidates(label, batch_classes)
            n = candidates.numel()
            chosen = _random_subset(candidates, (n + n % 2) // 2, generator)
            grouped = add_cooccurring_classes(chosen.tolist(),
                                              candidates.tolist(), self.groups)
            grouped = torch.tensor(grouped,
                                   dtype=label.dtype,
                                   device=label.device)
            masks.append(torch.isin(label, grouped))
        return torch.stack(masks).float()

    @torch.no_grad()
    def mix(self,
            src_img: torch.Tensor,
            src_label: torch.Tensor,
            tgt_img: torch.Tensor,
            pseudo: PseudoLabels,
            generator: Optional[torch.Generator] = None) -> MixedBatch:
        masks = self.class_masks(src_label, generator)
        return class_mix(masks, src_img, tgt_img, src_label, pseudo.label,
                         pseudo.weight)

    def forward(self,
                ctx: UDAStepContext,
                generator: Optional[torch.Generator] = None) -> MixedBatch:
        if ctx.pseudo is None:
            raise ValueError('grouped_classmix.py: GroupedClassMix needs '
                             'ctx.pseudo')
        return self.mix(ctx.source['img'], ctx.source['gt_semantic_seg'],
                        ctx.target['img'], ctx.pseudo, generator)
