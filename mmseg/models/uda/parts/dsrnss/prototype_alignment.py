"""DSRNSS feature prototype alignment (FPA): a cross-domain prototype contrast.

For a pair of domains (a, b) with features ``f`` and labels ``y``:

- prototypes ``P_a[c]`` = masked mean of ``f_a`` over the pixels with
  ``y_a = c`` (labels nearest-resized to the feature resolution); absent
  classes get the zero vector;
- logits on domain b: ``z_c(x) = cos(P_a[c], f_b(x)) / tau``, with exact-zero
  cosines (absent prototypes) set to -1 before the scaling, upsampled
  (nearest) to the resolution of ``y_b``;
- ``L1 = CE(z, y_b)`` with class weights ``w_c = 1`` for classes present in
  both (resized) labels and 0 otherwise, ignore 255;
- ``L2`` = the symmetric term (prototypes of b, logits on ``f_a``, CE
  against ``y_a``), unweighted;
- ``l = 0.1 * L1 + 0.1 * L2``.

The module sums ``mean_n l(src, tgt) + mix_weight * mean_n l(src, mix)``
over the first two samples of the batch once ``iteration >= start_iter``.

Across ranks (``mmseg.utils.dist``), for the proposed momentum memory: each
rank's losses blend its own current prototypes with the memory as it was
before the step, then the memory is updated with every rank's current
prototypes, replayed in rank order and sample order (what one process
does with the concatenated samples), so it is the same on every rank.
"""
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from mmseg.models.uda.parts.context import ExtraLoss, UDAStepContext
from mmseg.models.utils.class_argmax import class_argmax
from mmseg.models.utils.precision import full_precision
from mmseg.registry import MODELS
from mmseg.utils.dist import all_gather_cat

IGNORE_INDEX = 255
TERM_WEIGHT = 0.1
# Dynamic and small classes: pole, light, sign, person .. bicycle.
DYNAMIC_SMALL_CLASSES = (5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18)
# (domain 0 source / 1 target, prototypes [K, C], present [K]) of one sample
Observation = Tuple[int, torch.Tensor, torch.Tensor]


def _as_label(y: torch.Tensor) -> torch.Tensor:
    """A label map as ``[H, W]`` int64 (accepts [H,W], [1,H,W], [1,1,H,W])."""
    while y.dim() > 2:
        if y.shape[0] != 1:
            raise ValueError('prototype_alignment.py: expected the label of '
                             f'one image, got shape {tuple(y.shape)}')
        y = y[0]
    return y.long()


def _as_feature(f: torch.Tensor) -> torch.Tensor:
    """A feature map as ``[C, h, w]`` float (accepts [C,h,w], [1,C,h,w])."""
    if f.dim() == 4:
        if f.shape[0] != 1:
            raise ValueError('prototype_alignment.py: expected the features '
                             f'of one image, got shape {tuple(f.shape)}')
        f = f[0]
    return f.float()


def resize_label(y: torch.Tensor, size: Tuple[int, int]) -> torch.Tensor:
    """Nearest resize of a ``[H, W]`` label map to ``size``."""
    return F.interpolate(y[None, None].float(), size=size,
                         mode='nearest')[0, 0].long()


def class_prototypes(f: torch.Tensor, y: torch.Tensor,
                     num_classes: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Masked class means of ``f [C, h, w]`` under ``y [h, w]``.

    Returns ``(prototypes [num_classes, C], present [num_classes] bool)``;
    absent classes have zero prototypes.
    """
    channels = f.shape[0]
    flat_y = y.reshape(-1)
    valid = (flat_y >= 0) & (flat_y < num_classes)
    onehot = F.one_hot(torch.where(valid, flat_y, 0), num_classes).to(f.dtype)
    onehot = onehot * valid[:, None].to(f.dtype)
    counts = onehot.sum(0)
    sums = onehot.t() @ f.reshape(channels, -1).t()
    protos = sums / counts.clamp(min=1)[:, None]
    return protos, counts > 0


def prototype_logits(prototypes: torch.Tensor, f: torch.Tensor,
                     size: Tuple[int, int], tau: float) -> torch.Tensor:
    """``cos(P[c], f(x)) / tau`` as ``[1, K, *size]`` (exact zeros -> -1)."""
    channels, h, w = f.shape
    cos = F.normalize(prototypes, dim=1) @ F.normalize(f.reshape(channels, -1),
                                                       dim=0)
    cos = torch.where(cos == 0, torch.full_like(cos, -1.0), cos)
    cos = cos.reshape(1, -1, h, w)
    return F.interpolate(cos, size=size, mode='nearest') / tau


def _weighted_ce(logits: torch.Tensor, label: torch.Tensor,
                 weight: Optional[torch.Tensor]) -> torch.Tensor:
    """Weighted-mean CE as ``nn.CrossEntropyLoss``; 0 when no pixel counts."""
    target = label[None]
    if weight is None:
        if not (target != IGNORE_INDEX).any():
            return logits.sum() * 0
        return F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX)
    valid = target != IGNORE_INDEX
    pixel_weight = weight[torch.where(valid, target, 0)] * valid
    if pixel_weight.sum() == 0:
        return logits.sum() * 0
    return F.cross_entropy(logits,
                           target,
                           weight=weight,
                           ignore_index=IGNORE_INDEX)


def prototype_contrast_loss(
        f_a: torch.Tensor,
        y_a: torch.Tensor,
        f_b: torch.Tensor,
        y_b: torch.Tensor,
        tau: float = 0.1,
        class_weights: Optional[torch.Tensor] = None,
        num_classes: int = 19,
        prototypes_a: Optional[torch.Tensor] = None,
        prototypes_b: Optional[torch.Tensor] = None) -> torch.Tensor:
    """DSRNSS ``l(f_a, y_a, f_b, y_b) = 0.1 L1 + 0.1 L2`` of one image pair.

    Args:
        f_a, f_b: features ``[C, h, w]`` (or ``[1, C, h, w]``).
        y_a, y_b: labels at any resolution (``[H, W]``, ``[1, H, W]`` or
            ``[1, 1, H, W]``), 255 = ignore.
        tau: temperature of the cosine logits.
        class_weights: optional ``[num_classes]`` factors, multiplied into
            the overlap weights of L1 and used as the weights of L2.
        prototypes_a, prototypes_b: replace the prototypes computed from
            ``(f_a, y_a)`` / ``(f_b, y_b)`` (e.g. momentum-averaged ones).
    """
    f_a, f_b = _as_feature(f_a), _as_feature(f_b)
    y_a, y_b = _as_label(y_a), _as_label(y_b)
    y_a_small = resize_label(y_a, tuple(f_a.shape[-2:]))
    y_b_small = resize_label(y_b, tuple(f_b.shape[-2:]))
    protos_a, present_a = class_prototypes(f_a, y_a_small, num_classes)
    protos_b, present_b = class_prototypes(f_b, y_b_small, num_classes)
    if prototypes_a is not None:
        protos_a = prototypes_a
    if prototypes_b is not None:
        protos_b = prototypes_b
    overlap = (present_a & present_b).float()
    if class_weights is not None:
        class_weights = class_weights.to(f_a.device, torch.float32)
        overlap = overlap * class_weights
    logits_b = prototype_logits(protos_a, f_b, tuple(y_b.shape), tau)
    logits_a = prototype_logits(protos_b, f_a, tuple(y_a.shape), tau)
    loss_1 = _weighted_ce(logits_b, y_b, overlap)
    loss_2 = _weighted_ce(logits_a, y_a, class_weights)
    return TERM_WEIGHT * loss_1 + TERM_WEIGHT * loss_2


FeatureFn = Union[str, Callable[[torch.nn.Module, torch.Tensor], Any]]


@MODELS.register_module(name='FPA')
class FeaturePrototypeAlignment(ExtraLoss):
    """Feature prototype alignment of DSRNSS as an extra loss of the step.

    Features are the student's last backbone stage: ``f_s`` (source, with
    gradient), ``f_t`` (target, under ``no_grad`` when
    ``detach_target_feats``, the released code) and ``f_m`` (mixed image,
    with gradient). Labels: source GT, ``argmax`` of the teacher logits
    (``ctx.pseudo.logits``, no threshold; ``ctx.pseudo.label`` when no
    logits are kept) and the mixed label.

    Args:
        start_iter: first iteration with the loss (DSRNSS starts at
            Lightning epoch 8: about 4832 for Dark Zurich, 800 for ACDC).
        num_samples: samples of the batch used (the reference uses 0 and 1).
        mix_weight: factor of ``l(src, mix)``: 1/100 with HRDA, 1/10 else.
        tau: cosine temperature.
        num_classes: number of classes.
        detach_target_feats: target features without gradient.
        feature_fn: ``fn(student, img) -> features`` or the name of a
            student method; default ``student.extract_feat`` (for HRDA the
            ``feature_scale`` branch). A list/tuple result gives its last
            stage.
        small_class_boost: beta of the proposed class weights
            ``w_c = 1 + beta * [c in boost_classes]`` (0 = off, reference).
        boost_classes: the dynamic/small classes of the boost.
        ema_prototypes: proposed momentum memory of source and target
            prototypes (off in the reference), blended as
            ``m * memory + (1 - m) * current`` for classes present now.
        ema_momentum: ``m`` of the prototype memory.
        feat_channels: channels of the features (sizes the memory buffers).
    """
    prefix = 'fpa'

    def __init__(self,
                 start_iter: int = 4832,
                 num_samples: int = 2,
                 mix_weight: float = 0.01,
                 tau: float = 0.1,
                 num_classes: int = 19,
                 detach_target_feats: bool = True,
                 feature_fn: Optional[FeatureFn] = None,
                 small_class_boost: float = 0.0,
                 boost_classes: Sequence[int] = DYNAMIC_SMALL_CLASSES,
                 ema_prototypes: bool = False,
                 ema_momentum: float = 0.99,
                 feat_channels: int = 512) -> None:
        super().__init__()
        self.start_iter = int(start_iter)
        self.num_samples = int(num_samples)
        self.mix_weight = float(mix_weight)
        self.tau = float(tau)
        self.num_classes = int(num_classes)
        self.detach_target_feats = detach_target_feats
        self.feature_fn = feature_fn
        self.ema_prototypes = ema_prototypes
        self.ema_momentum = float(ema_momentum)
        self.class_weights: Optional[torch.Tensor] = None
        if small_class_boost:
            weights = torch.ones(self.num_classes)
            weights[list(boost_classes)] += float(small_class_boost)
            self.class_weights = weights
        if ema_prototypes:
            self.register_buffer(
                'proto_memory',
                torch.zeros(2, self.num_classes, int(feat_channels)))
            self.register_buffer(
                'proto_seen', torch.zeros(2,
                                          self.num_classes,
                                          dtype=torch.bool))

    # -- features and labels ----------------------------------------------
    def features(self, student: torch.nn.Module,
                 img: torch.Tensor) -> torch.Tensor:
        """The student's last-stage features ``[B, C, h, w]`` of ``img``."""
        if self.feature_fn is None:
            feats = student.extract_feat(img)
        elif isinstance(self.feature_fn, str):
            feats = getattr(student, self.feature_fn)(img)
        else:
            feats = self.feature_fn(student, img)
        if isinstance(feats, (list, tuple)):
            feats = feats[-1]
        return feats.float()  # prototypes and loss in fp32 under --amp

    @staticmethod
    def target_labels(ctx: UDAStepContext) -> torch.Tensor:
        if ctx.pseudo is None:
            raise ValueError('prototype_alignment.py: FPA needs ctx.pseudo')
        if ctx.pseudo.logits is not None:
            return class_argmax(ctx.pseudo.logits)
        return ctx.pseudo.label

    # -- proposed momentum memory -----------------------------------------
    def _blend(self, memory: torch.Tensor, seen: torch.Tensor,
               current: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``m * memory + (1 - m) * current`` where seen and present, else
        ``current`` (``[K, C]``), and the memory ``[K, C]``/``seen [K]``
        updated in place for the present classes."""
        use_memory = (present & seen)[:, None]
        m = self.ema_momentum
        blended = torch.where(use_memory,
                              m * memory.to(current.dtype) + (1 - m) * current,
                              current)
        with torch.no_grad():
            memory[present] = blended.detach()[present].to(memory.dtype)
            seen |= present
        return blended

    def _remember(self, domain: int, f: torch.Tensor, y: torch.Tensor,
                  memory: torch.Tensor, seen: torch.Tensor,
                  observed: List[Observation]) -> torch.Tensor:
        """Blend the current prototypes of ``domain`` with the step's
        working ``memory``/``seen``; note them in ``observed``."""
        f, y = _as_feature(f), _as_label(y)
        if f.shape[0] != self.proto_memory.shape[-1]:
            raise ValueError(
                f'prototype_alignment.py: feat_channels is '
                f'{self.proto_memory.shape[-1]} but the features have '
                f'{f.shape[0]} channels')
        current, present = class_prototypes(
            f, resize_label(y, tuple(f.shape[-2:])), self.num_classes)
        observed.append((domain, current.detach(), present))
        return self._blend(memory[domain], seen[domain], current, present)

    @torch.no_grad()
    def _update_memory(self, observed: List[Observation]) -> None:
        """Apply every rank's observations to the memory in rank order."""
        if not observed:
            return
        domains = all_gather_cat(torch.tensor([d for d, _, _ in observed]))
        currents = all_gather_cat(torch.stack([c for _, c, _ in observed]))
        presents = all_gather_cat(torch.stack([p for _, _, p in observed]))
        for domain, current, present in zip(domains.tolist(), currents,
                                            presents):
            self._blend(self.proto_memory[domain], self.proto_seen[domain],
                        current, present)

    # -- the loss ----------------------------------------------------------
    def _pair_loss(self, f_a, y_a, f_b, y_b, protos_a=None, protos_b=None):
        return prototype_contrast_loss(f_a,
                                       y_a,
                                       f_b,
                                       y_b,
                                       tau=self.tau,
                                       class_weights=self.class_weights,
                                       num_classes=self.num_classes,
                                       prototypes_a=protos_a,
                                       prototypes_b=protos_b)

    def losses(self, ctx: UDAStepContext) -> List[Dict[str, torch.Tensor]]:
        if ctx.iteration < self.start_iter:
            return []
        if ctx.mixed is None:
            raise ValueError('prototype_alignment.py: FPA needs ctx.mixed')
        n = min(self.num_samples, ctx.source['img'].shape[0])
        f_s = self.features(ctx.student, ctx.source['img'][:n])
        with torch.set_grad_enabled(not self.detach_target_feats
                                    and torch.is_grad_enabled()):
            f_t = self.features(ctx.student, ctx.target['img'][:n])
        f_m = self.features(ctx.student, ctx.mixed.img[:n])
        y_s = ctx.source['gt_semantic_seg'][:n]
        y_t = self.target_labels(ctx)[:n]
        y_m = ctx.mixed.label[:n]
        src_tgt, src_mix = [], []
        observed: List[Observation] = []
        if self.ema_prototypes:
            memory = self.proto_memory.clone()
            seen = self.proto_seen.clone()
        with full_precision(f_s.device.type):
            for i in range(n):
                protos_s = protos_t = None
                if self.ema_prototypes:
                    protos_s = self._remember(0, f_s[i], y_s[i], memory, seen,
                                              observed)
                    protos_t = self._remember(1, f_t[i], y_t[i], memory, seen,
                                              observed)
                src_tgt.append(
                    self._pair_loss(f_s[i], y_s[i], f_t[i], y_t[i],
                                    protos_s, protos_t))
                src_mix.append(
                    self._pair_loss(f_s[i], y_s[i], f_m[i], y_m[i],
                                    protos_s))
        self._update_memory(observed)
        loss_st = torch.stack(src_tgt).mean()
        loss_sm = torch.stack(src_mix).mean()
        return [
            dict(loss_fpa=loss_st + self.mix_weight * loss_sm,
                 src_tgt=loss_st.detach(),
                 src_mix=loss_sm.detach())
        ]
