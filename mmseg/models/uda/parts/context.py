"""Values that travel through one UDA training step, and the plug-in protocol.

The step (``DACS.train_step``) fills a :class:`UDAStepContext` stage by stage;
plug-ins read it and return new values, they never keep per-step state on
themselves. Plug-ins are ``nn.Module``s so anything they must remember across
iterations (memory banks, running class statistics) is in the state dict and
therefore in the checkpoint.

Calling points, in the order of the step::

    source loss -> [feature distance] -> teacher pseudo-labels
      -> PseudoLabelRefiner.refine        (EGLP fusion, SeCo labels, ...)
      -> ClassMix
      -> MixAugmenter.augment(stage='before_strong_aug')   (RCM, DSRNSS bank)
      -> strong augmentation
      -> MixAugmenter.augment(stage='after_strong_aug')
      -> mixed-target loss
      -> ExtraLoss.losses                 (MIC, FPA, entropy balance, NFNet)
      -> one optimiser step
"""
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import torch
from torch import nn

from mmseg.models.uda.parts.strong_aug import StrongAugParams


@dataclass
class PseudoLabels:
    """Teacher pseudo-labels of the target batch."""
    label: torch.Tensor  # int64 [B, H, W]
    weight: torch.Tensor  # float32 [B, H, W]
    logits: Optional[torch.Tensor] = None  # teacher logits [B, C, H, W]
    # share of pixels with max p >= threshold, scalar in [0, 1] (for logs)
    confident_fraction: Optional[torch.Tensor] = None


@dataclass
class MixedBatch:
    """The mixed (source-into-target) batch the student is trained on."""
    img: torch.Tensor  # float32 [B, 3, H, W], normalised
    label: torch.Tensor  # int64 [B, 1, H, W]
    weight: torch.Tensor  # float32 [B, H, W]
    mask: torch.Tensor  # float32 [B, 1, H, W], 1 where the pixel came from source


@dataclass
class UDAStepContext:
    """Everything one UDA step has computed so far (filled stage by stage)."""
    iteration: int
    source: Dict[str, Any]
    target: Dict[str, Any]
    student: nn.Module
    teacher: Optional[nn.Module] = None
    prompt: Optional[Dict[str, Any]] = None
    pseudo: Optional[PseudoLabels] = None
    mixed: Optional[MixedBatch] = None
    source_features: Optional[Any] = None
    # EGLP: the EMA-NFNet's target logits [B, C, H, W] (set by
    # EGLP.pseudo_labels before the fusion reads them)
    nfnet_logits: Optional[torch.Tensor] = None
    # EGLP: least-similar-first class ranks [B, C] of the fusion (int64)
    class_ranks: Optional[torch.Tensor] = None
    # this iteration's strong-augmentation draws (set with the mixed batch;
    # EGLP's prompt mixture reuses them)
    strong_aug: Optional[StrongAugParams] = None
    # debug images and other per-step values for logging only
    extras: Dict[str, Any] = field(default_factory=dict)

    @property
    def img_norm_cfg(self) -> Dict[str, Any]:
        return self.source['img_metas'][0]['img_norm_cfg']


class PseudoLabelRefiner(nn.Module):
    """Changes the teacher's pseudo-labels/weights before mixing.

    ``refine`` returns new :class:`PseudoLabels` and keeps the teacher's
    ``confident_fraction`` (``dataclasses.replace(pseudo, label=...)``): the
    step logs it as the confidence before refiners.
    """

    def refine(self, ctx: UDAStepContext,
               pseudo: PseudoLabels) -> PseudoLabels:
        raise NotImplementedError


class MixAugmenter(nn.Module):
    """Changes the mixed batch before or after strong augmentation."""
    stage: str = 'before_strong_aug'  # or 'after_strong_aug'

    def augment(self, ctx: UDAStepContext, mixed: MixedBatch) -> MixedBatch:
        raise NotImplementedError


class ExtraLoss(nn.Module):
    """An extra loss term; each call's losses are back-propagated at once.

    ``losses`` returns a dict in mmengine's format (keys containing ``loss``
    are summed; other keys are logged). It may return several dicts to be
    back-propagated one after the other (to free activations between them).
    """
    prefix: str = 'extra'

    def losses(self, ctx: UDAStepContext) -> List[Dict[str, torch.Tensor]]:
        raise NotImplementedError
