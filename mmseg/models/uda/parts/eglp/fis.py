"""FIS: fusion of UDA and NFNet pseudo-labels guided by image similarity.

Per sample, the ``k`` classes that are least similar between day and night
(the "guide" classes, rank <= k) are taken from the night-focused network:
``fused = nf where nf is a guide class, else uda``. Wherever the UDA label is
an exempt class the UDA label is kept. PIG tests ``uda > 14`` plus
``uda in {6, 7}``; for the 19 Cityscapes classes that is exactly the
explicit set ``(6, 7, 15, 16, 17, 18)`` used here (configurable).
"""
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from mmseg.models.uda.parts.eglp.class_similarity import (ClassSimilarity,
                                                          rank_least_similar)
from mmseg.models.uda.parts.context import (PseudoLabelRefiner, PseudoLabels,
                                            UDAStepContext)
from mmseg.models.utils.class_argmax import class_argmax
from mmseg.registry import MODELS

PIG_EXEMPT = (6, 7, 15, 16, 17, 18)
NFNET_LOGITS_KEY = 'nfnet_logits'


def guide_mask(distances_or_ranks: torch.Tensor, k: int) -> torch.Tensor:
    """Bool ``[B, C]``: the guide classes of each sample.

    A floating tensor is read as distances (guides = the ``k`` largest among
    classes with a distance > 0, ties to the lower class index); an integer
    tensor as ranks (guides = rank <= k).
    """
    if distances_or_ranks.is_floating_point():
        ranks = rank_least_similar(distances_or_ranks,
                                   candidates=distances_or_ranks > 0)
        present = distances_or_ranks > 0
        return (ranks <= k) & present
    return distances_or_ranks <= k


def fis_fuse(uda_label: torch.Tensor,
             nf_label: torch.Tensor,
             distances_or_ranks: torch.Tensor,
             k: int = 4,
             exempt: Sequence[int] = PIG_EXEMPT) -> torch.Tensor:
    """Fused hard label ``[B, H, W]`` from the UDA and NFNet labels."""
    if uda_label.shape != nf_label.shape:
        raise ValueError(f'fis.py: uda_label {tuple(uda_label.shape)} and '
                         f'nf_label {tuple(nf_label.shape)} differ')
    guides = guide_mask(distances_or_ranks, k)  # [B, C]
    nf = nf_label.clamp(0, guides.shape[1] - 1)
    take_nf = torch.gather(guides, 1, nf.flatten(1)).view_as(nf_label)
    take_nf &= (nf_label >= 0) & (nf_label < guides.shape[1])
    if len(exempt):
        exempt_t = torch.as_tensor(list(exempt), device=uda_label.device)
        take_nf &= ~torch.isin(uda_label, exempt_t)
    return torch.where(take_nf, nf_label, uda_label)


def nfnet_logits(ctx: UDAStepContext, size: torch.Size) -> torch.Tensor:
    """EMA-NFNet target logits from ``ctx.extras``, resized to ``size``."""
    if NFNET_LOGITS_KEY not in ctx.extras:
        raise KeyError(f'fis.py: ctx.extras["{NFNET_LOGITS_KEY}"] (EMA-NFNet '
                       'logits on the target) must be set before refining')
    logits = ctx.extras[NFNET_LOGITS_KEY].detach()
    if logits.shape[-2:] != size:
        logits = F.interpolate(logits,
                               size,
                               mode='bilinear',
                               align_corners=False)
    return logits


def build_similarity(
        cfg: Union[dict, ClassSimilarity, None]) -> ClassSimilarity:
    if isinstance(cfg, nn.Module):
        return cfg
    return ClassSimilarity(**(cfg or {}))


@MODELS.register_module(name='FIS')
class FISRefiner(PseudoLabelRefiner):
    """Replaces the teacher's labels by the FIS fusion (weights unchanged).

    Reads ``ctx.source`` (``img``, ``gt_semantic_seg``), ``ctx.target['img']``
    and ``ctx.extras['nfnet_logits']``; writes the ranks to
    ``ctx.extras['fis_ranks']`` for logging. ``absent_fill=True`` reproduces
    PIG's tie order when fewer than ``k`` classes are present (absent classes
    with distance 0 may then become guides). ``dnis_target`` says whose
    target labels locate the classes for the prototype DNIS: ``'nfnet'``
    (the night-focused teacher, which knows night appearance) or ``'uda'``.
    """

    def __init__(self,
                 similarity: Union[dict, ClassSimilarity, None] = None,
                 k: int = 4,
                 exempt: Sequence[int] = PIG_EXEMPT,
                 absent_fill: bool = False,
                 dnis_target: str = 'nfnet') -> None:
        super().__init__()
        if dnis_target not in ('nfnet', 'uda'):
            raise ValueError(f'fis.py: dnis_target must be "nfnet" or "uda", '
                             f'got {dnis_target!r}')
        self.similarity = build_similarity(similarity)
        self.k = k
        self.exempt = tuple(exempt)
        self.absent_fill = absent_fill
        self.dnis_target = dnis_target

    def class_ranks(self, ctx: UDAStepContext,
                    tgt_label: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Least-similar-first ranks ``[B, C]`` of this step's batch
        (``tgt_label``: target labels, for the prototype DNIS)."""
        src, gt = ctx.source['img'], ctx.source['gt_semantic_seg']
        norm_cfg = sample_norm_cfg(ctx.source)
        dist = self.similarity(src, gt, ctx.target['img'], norm_cfg,
                               tgt_label=tgt_label)
        ranks = self.similarity.ranks(dist,
                                      self.similarity.candidates(gt, dist),
                                      self.absent_fill)
        ctx.extras['fis_ranks'] = ranks
        return ranks

    def dnis_label(self, uda_label: torch.Tensor,
                   nf_label: torch.Tensor) -> torch.Tensor:
        """The target labels the prototype DNIS reads (``dnis_target``)."""
        return nf_label if self.dnis_target == 'nfnet' else uda_label

    def refine(self, ctx: UDAStepContext,
               pseudo: PseudoLabels) -> PseudoLabels:
        nf_label = class_argmax(nfnet_logits(ctx, pseudo.label.shape[-2:]))
        ranks = self.class_ranks(ctx, self.dnis_label(pseudo.label, nf_label))
        fused = fis_fuse(pseudo.label, nf_label, ranks, self.k, self.exempt)
        return PseudoLabels(label=fused,
                            weight=pseudo.weight,
                            logits=pseudo.logits)


def sample_norm_cfg(sample: Dict) -> Optional[dict]:
    """The ``img_norm_cfg`` of a sample batch's first image (or None)."""
    metas = sample.get('img_metas')
    if metas and isinstance(metas[0], dict):
        return metas[0].get('img_norm_cfg')
    return None
