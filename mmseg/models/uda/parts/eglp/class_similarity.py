"""DNIS: class-wise day/night image similarity between source and target.

For sample ``n`` and class ``c`` present anywhere in the batch's source GT,
``x_s^(c)`` is source image ``n`` with every pixel whose GT is not ``c`` set
to 0 (0 in normalised space, i.e. the mean colour), and

    d[n, c] = metric(x_s^(c), x_t[n])        (absent classes: d = 0)

with ``metric`` LPIPS (PIG) or ``(LPIPS + DISTS) / 2`` (EGLP proposal). All
class images of the batch go through one metric call (or ``chunk_size``
pairs at a time). ``metric='prototype'`` instead compares the class's mean
feature in the source crop (GT) and in the target crop (a teacher's
pseudo-label) on a frozen encoder (:class:`ClassPrototypeDistance`), defined
where the class is in both crops.

``ema=None`` (PIG) returns these per-iteration distances. With ``ema=0.99``
the similarity ``S_c <- ema S_c + (1 - ema) s_c``, ``s_c = 1 - mean_n d[n, c]``
over the samples whose own GT contains ``c``, is kept in a buffer (so it is
checkpointed), updated only for the classes present this iteration (the first
observation initialises it), and ``1 - S_c`` is returned for every sample
(classes never seen: 0). With ``prototype`` the observations are the
(sample, class) pairs where the distance is defined.

Across ranks (``mmseg.utils.dist``) the EMA step uses the global batch: the
sums of ``1 - d`` and the observation counts are summed over the ranks
before ``s_c`` is formed, so every rank applies the same update and the
buffers stay identical. Per-iteration distances (``ema=None``) are the
rank's own and keep no state.

:func:`rank_least_similar` turns distances into ranks (1 = least similar).
"""
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import nn

from mmseg.registry import MODELS
from mmseg.utils.dist import all_reduce_sum

METRICS = ('lpips', 'lpips+dists', 'prototype')


def rank_least_similar(distances: torch.Tensor,
                       candidates: Optional[torch.Tensor] = None,
                       absent_fill: bool = False) -> torch.Tensor:
    """Ranks ``[B, C]`` (int64, 1 = largest distance) of distances ``[B, C]``.

    Ties keep the lower class index first (a stable sort, as PIG's
    ``sorted``). With ``candidates`` (bool ``[B, C]`` or ``[C]``) and
    ``absent_fill=False`` every candidate ranks before every non-candidate;
    ``absent_fill=True`` ignores ``candidates`` like PIG, so absent classes
    (distance 0) may fill the top ranks when fewer classes are present.
    """
    key = distances.double()
    if candidates is not None and not absent_fill:
        cand = candidates.expand_as(distances)
        key = torch.where(cand, key, torch.full_like(key, -torch.inf))
    order = torch.sort(key, dim=1, descending=True, stable=True).indices
    ranks = torch.empty_like(order)
    positions = torch.arange(1, order.shape[1] + 1, device=order.device)
    ranks.scatter_(1, order, positions.expand_as(order).contiguous())
    return ranks


def _build(cfg: Union[dict, nn.Module, None], name: str) -> nn.Module:
    if cfg is None:
        raise ValueError(f'class_similarity.py: metric needs "{name}" config')
    return cfg if isinstance(cfg, nn.Module) else MODELS.build(cfg)


class ClassSimilarity(nn.Module):
    """Per-sample, per-class source/target distances ``[B, C]`` (module doc).

    Call graph: ``forward() -> distances() -> _pair_distances() -> metric``,
    then ``_ema_distances()`` when ``ema`` is set; ``candidates()`` says
    which classes may be ranked.
    """

    def __init__(self,
                 metric: str = 'lpips',
                 lpips: Union[dict, nn.Module, None] = None,
                 dists: Union[dict, nn.Module, None] = None,
                 prototype: Union[dict, nn.Module, None] = None,
                 ema: Optional[float] = None,
                 num_classes: int = 19,
                 chunk_size: Optional[int] = None) -> None:
        super().__init__()
        if metric not in METRICS:
            raise ValueError(f'class_similarity.py: metric must be one of '
                             f'{METRICS}, got {metric!r}')
        if ema is not None and not 0 <= ema < 1:
            raise ValueError(f'class_similarity.py: ema must be in [0, 1), '
                             f'got {ema}')
        self.metric = metric
        if metric == 'prototype':
            self.prototype = _build(prototype, 'prototype')
            self.lpips = self.dists = None
        else:
            self.prototype = None
            self.lpips = _build(lpips or dict(type='LPIPS'), 'lpips')
            self.dists = _build(dists,
                                'dists') if metric == 'lpips+dists' else None
        self.ema = ema
        self.num_classes = num_classes
        self.chunk_size = chunk_size
        self.register_buffer('similarity', torch.zeros(num_classes))
        self.register_buffer('seen', torch.zeros(num_classes,
                                                 dtype=torch.bool))

    def batch_present(self, src_gt: torch.Tensor) -> torch.Tensor:
        """Bool ``[C]``: class occurs anywhere in the batch's source GT."""
        return self.sample_present(src_gt).any(0)

    def sample_present(self, src_gt: torch.Tensor) -> torch.Tensor:
        """Bool ``[B, C]``: class occurs in sample ``n``'s source GT."""
        gt = src_gt.reshape(src_gt.shape[0], -1)
        classes = torch.arange(self.num_classes, device=gt.device)
        return (gt[:, :, None] == classes).any(1)

    def candidates(self, src_gt: torch.Tensor,
                   distances: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Bool ``[B, C]`` of rankable classes: present (PIG), seen (EMA),
        or, for per-iteration prototype distances, those defined (> 0)."""
        b = src_gt.shape[0]
        if self.ema is not None:
            return self.seen.expand(b, -1)
        if self.prototype is not None and distances is not None:
            return distances > 0
        return self.batch_present(src_gt).expand(b, -1)

    def _pair_distances(self, x: torch.Tensor, y: torch.Tensor,
                        img_norm_cfg: Optional[dict]) -> torch.Tensor:
        step = self.chunk_size or x.shape[0]
        out = []
        for i in range(0, x.shape[0], step):
            xs, ys = x[i:i + step], y[i:i + step]
            d = self.lpips(xs, ys, img_norm_cfg)
            if self.dists is not None:
                d = 0.5 * (d + self.dists(xs, ys, img_norm_cfg))
            out.append(d)
        return torch.cat(out)

    @torch.no_grad()
    def distances(self,
                  src_img: torch.Tensor,
                  src_gt: torch.Tensor,
                  tgt_img: torch.Tensor,
                  img_norm_cfg: Optional[dict] = None) -> torch.Tensor:
        """Per-iteration distances ``[B, C]`` (0: class not in the batch)."""
        gt = src_gt.reshape(src_gt.shape[0], 1, *src_gt.shape[-2:])
        if src_img.shape[-2:] != tgt_img.shape[-2:]:
            src_img = F.interpolate(src_img,
                                    tgt_img.shape[-2:],
                                    mode='bilinear',
                                    align_corners=False)
            gt = F.interpolate(gt.float(), tgt_img.shape[-2:],
                               mode='nearest').long()
        present = self.batch_present(gt).nonzero().flatten()
        b, p = src_img.shape[0], present.numel()
        out = src_img.new_zeros(b, self.num_classes)
        if p == 0:
            return out
        masks = gt == present.view(1, p, 1, 1)  # [B, P, H, W]
        class_imgs = src_img[:, None] * masks[:, :, None]  # [B, P, 3, H, W]
        targets = tgt_img[:, None].expand(-1, p, -1, -1, -1)
        d = self._pair_distances(class_imgs.flatten(0, 1),
                                 targets.flatten(0, 1), img_norm_cfg)
        out[:, present] = d.view(b, p).to(out)
        return out

    @torch.no_grad()
    def _ema_distances(self, dist: torch.Tensor,
                       present: torch.Tensor) -> torch.Tensor:
        counts = all_reduce_sum(present.sum(0))
        seen_now = counts > 0
        sums = all_reduce_sum(((1 - dist) * present).sum(0))
        sim_now = sums / counts.clamp(min=1)
        sim_now = sim_now.to(self.similarity)
        blended = self.ema * self.similarity + (1 - self.ema) * sim_now
        updated = torch.where(self.seen, blended, sim_now)
        self.similarity.copy_(torch.where(seen_now, updated, self.similarity))
        self.seen.logical_or_(seen_now)
        ema_dist = torch.where(self.seen, 1 - self.similarity,
                               torch.zeros_like(self.similarity))
        return ema_dist.to(dist).expand(dist.shape[0], -1).clone()

    def forward(self,
                src_img: torch.Tensor,
                src_gt: torch.Tensor,
                tgt_img: torch.Tensor,
                img_norm_cfg: Optional[dict] = None,
                tgt_label: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Distances ``[B, C]``: per-iteration (``ema=None``) or EMA-based.

        ``tgt_label`` (a teacher's target labels) is needed by the
        ``prototype`` metric only.
        """
        if self.prototype is not None:
            if tgt_label is None:
                raise ValueError('class_similarity.py: metric "prototype" '
                                 'needs the target pseudo-label')
            dist, observed = self.prototype(src_img, src_gt, tgt_img,
                                            tgt_label, img_norm_cfg)
        else:
            dist = self.distances(src_img, src_gt, tgt_img, img_norm_cfg)
            observed = self.sample_present(src_gt)
        if self.ema is None:
            return dist
        return self._ema_distances(dist, observed)

    @torch.no_grad()
    def ema_ranks(self) -> torch.Tensor:
        """Ranks ``[1, C]`` of the EMA similarity, least similar first;
        classes never observed rank ``C + 1`` (never a guide)."""
        if self.ema is None:
            raise ValueError('class_similarity.py: ranks without a batch need '
                             'the EMA similarity (set similarity.ema)')
        dist = torch.where(self.seen, 1 - self.similarity,
                           torch.zeros_like(self.similarity))[None]
        ranks = rank_least_similar(dist, candidates=self.seen[None])
        never = torch.full_like(ranks, self.similarity.numel() + 1)
        return torch.where(self.seen[None], ranks, never)

    def ranks(self,
              distances: torch.Tensor,
              candidates: Optional[torch.Tensor] = None,
              absent_fill: bool = False) -> torch.Tensor:
        """Least-similar-first ranks ``[B, C]``: :func:`rank_least_similar`."""
        return rank_least_similar(distances, candidates, absent_fill)
