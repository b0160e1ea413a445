"""Cutting object instances out of label maps and pasting them into images.

Used by the rare class memory (RCM). An :class:`ObjectCrop` is one connected
component of one class: its bounding-box image crop (normalised, on the CPU),
its binary mask, and where it sat in the image it came from.
"""
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mmseg.models.similarity.frozen_metric import IMAGENET_MEAN, IMAGENET_STD

ORIGINS = ('source', 'prompt')


@dataclass
class ObjectCrop:
    img: torch.Tensor  # float32 [3, h, w], normalised
    mask: torch.Tensor  # bool [h, w]
    cls: int
    top: int  # first row of the box in the original image
    canvas_height: int  # height of the original image
    origin: str = 'source'


def extract_objects(img: torch.Tensor,
                    label: torch.Tensor,
                    classes: Sequence[int],
                    min_area: int,
                    origin: str = 'source') -> List[ObjectCrop]:
    """8-connected components of ``classes`` with area >= ``min_area``.

    ``img`` ``[3, H, W]``, ``label`` ``[H, W]`` (or ``[1, H, W]``).
    """
    label_np = label.reshape(label.shape[-2:]).cpu().numpy()
    img_cpu: Optional[torch.Tensor] = None
    objects = []
    for cls in classes:
        binary = (label_np == cls).astype(np.uint8)
        if not binary.any():
            continue
        count, comp, stats, _ = cv2.connectedComponentsWithStats(
            binary, connectivity=8)
        for i in range(1, count):
            x, y, w, h, area = (int(v) for v in stats[i])
            if area < min_area:
                continue
            if img_cpu is None:
                img_cpu = img.detach().float().cpu()
            mask = torch.from_numpy(comp[y:y + h, x:x + w] == i)
            objects.append(
                ObjectCrop(img=img_cpu[:, y:y + h, x:x + w].clone(),
                           mask=mask,
                           cls=cls,
                           top=y,
                           canvas_height=label_np.shape[0],
                           origin=origin))
    return objects


def night_recolour(crop: torch.Tensor,
                   mask: torch.Tensor,
                   target: torch.Tensor,
                   norm_cfg: Optional[dict] = None) -> torch.Tensor:
    """Give the object's pixels the target image's per-channel mean/std.

    Works in de-normalised RGB (0..255): ``x' = (x - mu_o) / sd_o * sd_t +
    mu_t`` with object statistics over ``mask`` and target statistics over
    the whole target image, clamped to 0..255, then normalised again.
    """
    norm_cfg = norm_cfg or dict(mean=IMAGENET_MEAN, std=IMAGENET_STD)
    mean = torch.as_tensor(norm_cfg['mean'],
                           dtype=crop.dtype,
                           device=crop.device).view(3, 1, 1)
    std = torch.as_tensor(norm_cfg['std'],
                          dtype=crop.dtype,
                          device=crop.device).view(3, 1, 1)
    obj = crop * std + mean
    tgt = (target.to(crop) * std + mean).flatten(1)
    pixels = obj[:, mask]
    if pixels.shape[1] == 0:
        return crop
    mu_o, sd_o = pixels.mean(1), pixels.std(1, unbiased=False)
    mu_t, sd_t = tgt.mean(1), tgt.std(1, unbiased=False)
    styled = (obj - mu_o.view(3, 1, 1)) / (sd_o.view(3, 1, 1) + 1e-6)
    styled = (styled * sd_t.view(3, 1, 1) + mu_t.view(3, 1, 1)).clamp(0, 255)
    return (styled - mean) / std


def resize_object(obj: ObjectCrop, scale: float,
                  device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(img [3, h', w'], mask bool [h', w'])`` scaled by ``scale``."""
    h, w = obj.mask.shape
    size = (max(1, round(h * scale)), max(1, round(w * scale)))
    img = obj.img.to(device)
    mask = obj.mask.to(device)
    if size == (h, w):
        return img, mask
    img = F.interpolate(img[None], size, mode='bilinear',
                        align_corners=False)[0]
    mask = F.interpolate(mask[None, None].float(), size, mode='nearest')
    return img, mask[0, 0] > 0.5


def paste_region(height: int, width: int, top: int, left: int, h: int,
                 w: int) -> Optional[Tuple[slice, slice, slice, slice]]:
    """Slices (dst rows, dst cols, src rows, src cols) of the visible part."""
    y0, y1 = max(0, top), min(height, top + h)
    x0, x1 = max(0, left), min(width, left + w)
    if y0 >= y1 or x0 >= x1:
        return None
    return (slice(y0, y1), slice(x0, x1), slice(y0 - top, y1 - top),
            slice(x0 - left, x1 - left))
