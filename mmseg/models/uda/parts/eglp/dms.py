"""DMS: EGLP's dynamic mixing of UDA and NFNet teachers (proposed design).

``mode='hard_pig'`` is PIG's FIS hard switch exactly (see :mod:`fis`).
``mode='soft'`` fuses the teachers' probabilities per class:

    p_fused[c] = a_c(t) p_nf[c] + (1 - a_c(t)) p_uda[c]
    a_c(t)     = ramp(t) alpha(r_c),  ramp(t) = min(1, t / ramp_iters)
    alpha(r)   = log10(9 / r + 1) for r <= k, else 0

with ``r_c`` the least-similar-first DNIS rank of class ``c`` for the sample
(PIG's unused ``compute_alpha``). Where the UDA label is an exempt class the
UDA probabilities are kept (``a = 0``). The label is ``argmax p_fused``; the
weight is the DACS confidence weight of ``max p_fused`` restricted to
``ctx.target['valid_pseudo_mask']`` when present. ``threshold='same'`` (the
default) takes the confidence rule of the UDA step (its ``pseudo_threshold``
and ``pseudo_weight_mode``, shared by :class:`EGLP`); a number or ``None``
sets it here, with ``weight_mode`` (as in :class:`PseudoLabeler`).

The prompt-side policy also lives here, so one switch selects PIG or EGLP:

=========================  ==============  ====================
                           ``hard_pig``    ``soft``
=========================  ==============  ====================
PMS split                  0.5             U(0.3, 0.7)
AMS                        odd iterations  with probability 0.5
prompt-loss weight         1.0             1.0 (-> 0.5 if decay)
=========================  ==============  ====================
"""
import math
from typing import Optional, Sequence, Tuple, Union

import torch

from mmseg.models.uda.parts.eglp.class_similarity import ClassSimilarity
from mmseg.models.uda.parts.context import (PseudoLabels, UDAStepContext)
from mmseg.models.uda.parts.eglp.fis import (PIG_EXEMPT, FISRefiner, fis_fuse,
                                             nfnet_logits)
from mmseg.models.uda.parts.eglp.prompt_mixing import (AlternateMask,
                                                       prompt_mixture)
from mmseg.models.uda.parts.pseudo_label import (PseudoLabeler,
                                                 restrict_to_valid_region)
from mmseg.models.utils.class_argmax import class_argmax
from mmseg.registry import MODELS

MODES = ('hard_pig', 'soft')


def rank_alpha(ranks: torch.Tensor,
               k: int = 4,
               base: float = 10.0) -> torch.Tensor:
    """``log_base((base - 1) / r + 1)`` for ``r <= k``, else 0."""
    r = ranks.double()
    alpha = torch.log((base - 1) / r + 1) / math.log(base)
    return torch.where(ranks <= k, alpha, torch.zeros_like(alpha)).float()


def linear_ramp(iteration: int, ramp_iters: int) -> float:
    """``min(1, t / ramp_iters)`` (1 when ``ramp_iters <= 0``)."""
    return 1.0 if ramp_iters <= 0 else min(1.0, iteration / ramp_iters)


@MODELS.register_module(name='DMS')
class DynamicMixing(FISRefiner):
    """Pseudo-label fusion and prompt-mixing policy of EGLP (see module doc).

    Call graph: ``refine() -> class_ranks() -> fis_fuse()`` (hard_pig) or
    ``-> soft_fuse() -> PseudoLabeler.weight()`` (soft); the EGLP step also
    calls ``prompt_mixture()``, ``should_mask()``, ``mask_image()`` and
    ``prompt_loss_weight()``.
    """

    def __init__(self,
                 mode: str = 'hard_pig',
                 similarity: Union[dict, ClassSimilarity, None] = None,
                 k: int = 4,
                 exempt: Sequence[int] = PIG_EXEMPT,
                 absent_fill: bool = False,
                 dnis_target: str = 'nfnet',
                 ramp_iters: int = 4000,
                 threshold: Union[float, None, str] = 'same',
                 weight_mode: str = 'batch',
                 split_ratio_range: Optional[Tuple[float, float]] = None,
                 mask_prob: Optional[float] = None,
                 prompt_loss_decay: bool = False,
                 prompt_loss_final: float = 0.5) -> None:
        super().__init__(similarity, k, exempt, absent_fill, dnis_target)
        if mode not in MODES:
            raise ValueError(f'dms.py: mode must be one of {MODES}, '
                             f'got {mode!r}')
        soft = mode == 'soft'
        self.mode = mode
        self.ramp_iters = ramp_iters
        if isinstance(threshold, str) and threshold != 'same':
            raise ValueError(f"dms.py: threshold must be a number, None or "
                             f"'same', got {threshold!r}")
        self.labeler: Optional[PseudoLabeler] = (
            None if threshold == 'same' else PseudoLabeler(
                threshold, weight_mode))
        self.split = split_ratio_range or ((0.3, 0.7) if soft else 0.5)
        if mask_prob is None:
            mask_prob = 0.5 if soft else None
        self.ams = (AlternateMask('random', mask_prob)
                    if mask_prob is not None else AlternateMask('parity'))
        self.prompt_loss_decay = prompt_loss_decay
        self.prompt_loss_final = prompt_loss_final

    # pseudo-labels -----------------------------------------------------
    def share_labeler(self, labeler: PseudoLabeler) -> None:
        """Use the UDA step's confidence rule (``threshold='same'``)."""
        if self.labeler is None:
            self.labeler = labeler

    def mixing_weights(self, ranks: torch.Tensor,
                       iteration: int) -> torch.Tensor:
        """``a [B, C]`` = ramp(t) alpha(r)."""
        return linear_ramp(iteration, self.ramp_iters) * rank_alpha(
            ranks, self.k)

    def soft_fuse(self, p_uda: torch.Tensor, p_nf: torch.Tensor,
                  ranks: torch.Tensor, iteration: int) -> torch.Tensor:
        """Fused probabilities ``[B, C, H, W]``."""
        a = self.mixing_weights(ranks, iteration)[:, :, None, None].to(p_uda)
        a = a.expand_as(p_uda)
        if self.exempt:
            exempt = torch.as_tensor(self.exempt, device=p_uda.device)
            keep_uda = torch.isin(class_argmax(p_uda, keepdim=True), exempt)
            a = torch.where(keep_uda, torch.zeros_like(a), a)
        return a * p_nf + (1 - a) * p_uda

    def refine(self, ctx: UDAStepContext,
               pseudo: PseudoLabels) -> PseudoLabels:
        if self.mode == 'hard_pig':
            return super().refine(ctx, pseudo)
        if pseudo.logits is None:
            raise ValueError('dms.py: soft mode needs the UDA teacher logits '
                             '(PseudoLabels.logits)')
        size = pseudo.label.shape[-2:]
        p_nf = nfnet_logits(ctx, size).softmax(1)
        p_uda = pseudo.logits.detach().softmax(1)
        ranks = self.class_ranks(
            ctx, self.dnis_label(pseudo.label, class_argmax(p_nf)))
        p_fused = self.soft_fuse(p_uda, p_nf, ranks, ctx.iteration)
        if self.labeler is None:
            raise ValueError("dms.py: threshold='same' needs the UDA step's "
                             'pseudo-labeler (EGLP shares it); give a number '
                             'to use DMS on its own')
        max_prob, label = p_fused.max(1)
        weight = restrict_to_valid_region(self.labeler.weight(max_prob),
                                          ctx.target.get('valid_pseudo_mask'))
        return PseudoLabels(label=label, weight=weight, logits=pseudo.logits)

    @torch.no_grad()
    def deploy_labels(self, p_uda: torch.Tensor,
                      p_nf: torch.Tensor) -> torch.Tensor:
        """This mode's fusion of two class-probability maps ``[B, C, H, W]``
        at test time: the EMA class ranks, the ramp finished."""
        ranks = self.similarity.ema_ranks().to(p_uda.device)
        ranks = ranks.expand(p_uda.shape[0], -1)
        if self.mode == 'hard_pig':
            return fis_fuse(class_argmax(p_uda), class_argmax(p_nf), ranks, self.k,
                            self.exempt)
        return class_argmax(
            self.soft_fuse(p_uda, p_nf, ranks, self.ramp_iters))

    # prompt-side policy -------------------------------------------------
    def prompt_mixture(self,
                       prompt_img: torch.Tensor,
                       prompt_label: torch.Tensor,
                       tgt_img: torch.Tensor,
                       fused_label: torch.Tensor,
                       generator: Optional[torch.Generator] = None):
        """PMS with this mode's split (see :func:`prompt_mixture`)."""
        return prompt_mixture(prompt_img, prompt_label, tgt_img, fused_label,
                              generator, self.split)

    def should_mask(self,
                    iteration: int,
                    generator: Optional[torch.Generator] = None) -> bool:
        """AMS: train the NFNet on the block-masked PMS image this step?"""
        return self.ams.should_mask(iteration, generator)

    def mask_image(
            self,
            img: torch.Tensor,
            generator: Optional[torch.Generator] = None) -> torch.Tensor:
        return self.ams(img, generator)

    def prompt_loss_weight(self, iteration: int, max_iters: int) -> float:
        """1.0, or linear decay to ``prompt_loss_final`` over training."""
        if not self.prompt_loss_decay or max_iters <= 0:
            return 1.0
        progress = min(1.0, iteration / max_iters)
        return 1.0 + (self.prompt_loss_final - 1.0) * progress
