"""Feature distance to a frozen ImageNet-initialised copy (DAFormer FD)."""
import copy
from typing import Callable, Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from mmseg.registry import MODELS

THING_CLASSES = (6, 7, 11, 12, 13, 14, 15, 16, 17, 18)

FeatureFn = Callable[[nn.Module, torch.Tensor], Sequence[torch.Tensor]]


def downscale_label_ratio(gt: torch.Tensor,
                          scale_factor: int,
                          min_ratio: float,
                          n_classes: int,
                          ignore_index: int = 255) -> torch.Tensor:
    """Majority label of each ``scale_factor`` cell, ``[B, 1, H/s, W/s]``.

    Ignored pixels count as an extra class; a cell gets ``ignore_index``
    when that extra class wins or when the winning class covers less than
    ``min_ratio`` of the cell.
    """
    if gt.dim() != 4 or gt.shape[1] != 1:
        raise ValueError(f'feature_distance.py: gt must be [B, 1, H, W], '
                         f'got {tuple(gt.shape)}')
    if scale_factor < 1:
        raise ValueError(f'feature_distance.py: scale_factor must be >= 1, '
                         f'got {scale_factor}')
    label = gt[:, 0].long()
    label = torch.where(label == ignore_index,
                        torch.full_like(label, n_classes), label)
    one_hot = F.one_hot(label, n_classes + 1).permute(0, 3, 1, 2).float()
    ratio = F.avg_pool2d(one_hot, kernel_size=scale_factor)
    max_ratio, out = torch.max(ratio, dim=1, keepdim=True)
    ignored = (out == n_classes) | (max_ratio < min_ratio)
    return torch.where(ignored, torch.full_like(out, ignore_index), out)


@MODELS.register_module()
class ImageNetFeatureDistance(nn.Module):
    """``lambda * mean_{thing cells} ||F_student - F_imnet||_2`` (last stage).

    ``imnet_model`` is a frozen copy of the student taken at construction
    (always in eval mode, no gradient, never in an optimiser); when the
    student's pretrained weights are loaded after construction, load them
    here too (``init_weights`` does so through the copied ``init_cfg``) or
    call :meth:`reset`. Thing cells are those of
    :func:`downscale_label_ratio` whose label is in ``classes``
    (``classes=None``: every cell).

    With no thing cell the mean is empty: by default the loss is a zero that
    keeps the graph; ``nan_when_empty=True`` gives the reference NaN.
    ``feature_fn(imnet_model, img)`` replaces ``imnet_model.extract_feat``
    (for instance to apply HRDA's ``feature_scale`` resize).
    """

    def __init__(self,
                 student: nn.Module,
                 lambda_: float = 0.005,
                 classes: Optional[Sequence[int]] = THING_CLASSES,
                 scale_min_ratio: float = 0.75,
                 num_classes: int = 19,
                 ignore_index: int = 255,
                 nan_when_empty: bool = False,
                 feature_fn: Optional[FeatureFn] = None) -> None:
        super().__init__()
        self.lambda_ = lambda_
        self.classes = None if classes is None else tuple(classes)
        self.scale_min_ratio = scale_min_ratio
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.nan_when_empty = nan_when_empty
        self.feature_fn = feature_fn
        self.imnet_model = copy.deepcopy(student)
        for param in self.imnet_model.parameters():
            param.detach_()
            param.requires_grad_(False)
        self.imnet_model.eval()

    def train(self, mode: bool = True) -> 'ImageNetFeatureDistance':
        super().train(mode)
        self.imnet_model.eval()
        return self

    @torch.no_grad()
    def reset(self, student: nn.Module) -> None:
        """Copy the student's current weights into the frozen model."""
        if isinstance(student, DistributedDataParallel):
            student = student.module
        self.imnet_model.load_state_dict(student.state_dict())

    def loss(
            self,
            img: torch.Tensor,
            gt: torch.Tensor,
            student_feats: Sequence[torch.Tensor],
            feature_fn: Optional[FeatureFn] = None) -> Dict[str, torch.Tensor]:
        """``{'loss_imnet_feat_dist': ...}`` for a source batch."""
        student_feat = student_feats[-1].float()  # fp32 also under autocast
        imnet_feat = self.imnet_features(img, feature_fn)[-1].float()
        if imnet_feat.shape != student_feat.shape:
            raise ValueError(
                f'feature_distance.py: student features '
                f'{tuple(student_feat.shape)} and ImageNet features '
                f'{tuple(imnet_feat.shape)} differ')
        dist = torch.norm(student_feat - imnet_feat, p=2, dim=1)
        mask = self.thing_mask(gt, student_feat.shape[-1])
        return {'loss_imnet_feat_dist': self.lambda_ * self._mean(dist, mask)}

    @torch.no_grad()
    def imnet_features(
            self,
            img: torch.Tensor,
            feature_fn: Optional[FeatureFn] = None) -> Sequence[torch.Tensor]:
        self.imnet_model.eval()
        feature_fn = feature_fn or self.feature_fn
        if feature_fn is not None:
            feats = feature_fn(self.imnet_model, img)
        else:
            feats = self.imnet_model.extract_feat(img)
        return [f.detach() for f in feats]

    def thing_mask(self, gt: torch.Tensor,
                   feat_width: int) -> Optional[torch.Tensor]:
        """Bool ``[B, h, w]`` of feature cells to compare (None: all)."""
        if self.classes is None:
            return None
        scale = gt.shape[-1] // feat_width
        gt_small = downscale_label_ratio(gt, scale, self.scale_min_ratio,
                                         self.num_classes, self.ignore_index)
        classes = torch.tensor(self.classes, device=gt.device)
        return torch.isin(gt_small[:, 0], classes)

    def _mean(self, dist: torch.Tensor,
              mask: Optional[torch.Tensor]) -> torch.Tensor:
        if mask is None:
            return dist.mean()
        if mask.shape != dist.shape:
            raise ValueError(
                f'feature_distance.py: label grid {tuple(mask.shape)} does '
                f'not match the feature grid {tuple(dist.shape)}')
        if self.nan_when_empty:
            return dist[mask].mean()
        mask = mask.to(dist.dtype)
        return (dist * mask).sum() / mask.sum().clamp_min(1.0)
