"""Class-prototype day/night distance on a frozen (ImageNet) encoder.

PIG's DNIS compares a class-masked source image with the *whole* target image, so its distance
mostly follows how much of the source crop the class covers. This metric compares the class
itself: for sample ``n`` and class ``c``, the mean encoder feature of the source pixels labelled
``c`` (GT) and of the target pixels labelled ``c`` (a teacher's labels: in EGLP the
night-focused teacher's, see ``FISRefiner.dnis_target``),

    d[n, c] = 1 - cos(proto_s[n, c], proto_t[n, c]),

defined (``valid``) only where ``c`` covers at least ``min_area`` feature cells in both crops.
Position and area do not enter. The encoder is a backbone config (e.g. ``mit_b5`` with the
ImageNet weights the student starts from); it takes the run's normalised images as they are.
"""
from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from mmseg.models.similarity.frozen_metric import FrozenMetric
from mmseg.models.utils.precision import full_precision
from mmseg.registry import MODELS


def class_prototypes(feat: torch.Tensor, label: torch.Tensor,
                     num_classes: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean feature per class ``[B, C, D]`` and class area in feature cells ``[B, C]``.

    ``label`` ``[B, H, W]`` is reduced to the feature grid by area averaging of its one-hot
    map, so a cell contributes with the fraction of its pixels that carry the class; values
    outside ``0..num_classes-1`` (ignore) count for no class.
    """
    label = label.reshape(label.shape[0], 1, *label.shape[-2:])
    classes = torch.arange(num_classes, device=label.device).view(1, -1, 1, 1)
    masks = (label == classes).to(feat.dtype)  # [B, C, H, W], ignore: no class
    weights = F.interpolate(masks, feat.shape[-2:], mode='area')
    area = weights.sum((2, 3))
    protos = torch.einsum('bdhw,bchw->bcd', feat, weights) / area.clamp(min=1e-6)[..., None]
    return protos, area


@MODELS.register_module()
class ClassPrototypeDistance(FrozenMetric):
    """``forward(src_img, src_gt, tgt_img, tgt_label) -> (distances [B, C], valid [B, C])``."""

    def __init__(self,
                 encoder: Union[Dict, nn.Module],
                 stage: int = -1,
                 num_classes: int = 19,
                 min_area: float = 1.0) -> None:
        super().__init__()
        if isinstance(encoder, nn.Module):
            self.encoder, pretrained = encoder, True
        else:
            self.encoder = MODELS.build(encoder)
            pretrained = encoder.get('pretrained') is not None
            self.encoder.init_weights()
        self.stage = stage
        self.num_classes = num_classes
        self.min_area = min_area
        self.freeze(pretrained)

    def features(self, img: torch.Tensor) -> torch.Tensor:
        return self.encoder(img)[self.stage]

    @torch.no_grad()
    def forward(self, src_img: torch.Tensor, src_gt: torch.Tensor, tgt_img: torch.Tensor,
                tgt_label: torch.Tensor,
                img_norm_cfg: Optional[dict] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        if src_img.shape[-2:] != tgt_img.shape[-2:]:
            src_img = F.interpolate(src_img, tgt_img.shape[-2:], mode='bilinear',
                                    align_corners=False)
        feats = self.features(torch.cat([src_img, tgt_img]))
        with full_precision(feats.device.type):  # also under --amp
            src_feat, tgt_feat = feats.float().split(
                [src_img.shape[0], tgt_img.shape[0]])
            p_s, a_s = class_prototypes(src_feat, src_gt, self.num_classes)
            p_t, a_t = class_prototypes(tgt_feat, tgt_label, self.num_classes)
            valid = (a_s >= self.min_area) & (a_t >= self.min_area)
            dist = 1 - F.cosine_similarity(p_s, p_t, dim=-1, eps=1e-8)
        return torch.where(valid, dist, torch.zeros_like(dist)), valid
