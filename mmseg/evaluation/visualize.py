"""Colour overlays of segmentation maps (``tools/test.py --show-dir``)."""
import os
import os.path as osp
from typing import Any, Optional, Sequence, Union

import cv2
import numpy as np
import torch

from mmseg.datasets.cityscapes_labels import PALETTE
from mmseg.datasets.transforms.loading import read_image


def colorize(seg: np.ndarray, palette: Sequence[Sequence[int]] = PALETTE,
             ignore_index: int = 255) -> np.ndarray:
    """RGB image of a train-id map; ignored / unknown ids are black."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:len(palette)] = np.asarray(palette, dtype=np.uint8)
    lut[ignore_index] = 0
    return lut[seg.astype(np.uint8)]


def overlay_segmentation(img: np.ndarray, seg: Any,
                         palette: Sequence[Sequence[int]] = PALETTE,
                         opacity: float = 0.5,
                         ignore_index: int = 255) -> np.ndarray:
    """Blend ``seg`` coloured by ``palette`` over a BGR uint8 image:
    ``img * (1 - opacity) + colour * opacity``; ignored pixels keep the
    image. ``seg`` is nearest-resized to the image when sizes differ."""
    if not 0 <= opacity <= 1:
        raise ValueError(f'opacity must be in [0, 1], got {opacity}')
    if isinstance(seg, torch.Tensor):
        seg = seg.detach().cpu().numpy()
    seg = np.asarray(seg).squeeze()
    if seg.shape != img.shape[:2]:
        seg = cv2.resize(seg.astype(np.uint8), img.shape[1::-1],
                         interpolation=cv2.INTER_NEAREST)
    color = colorize(seg, palette, ignore_index)[..., ::-1].astype(np.float32)
    out = img.astype(np.float32) * (1 - opacity) + color * opacity
    out = np.where((seg == ignore_index)[..., None], img, out)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def write_overlay(img: Union[str, np.ndarray], seg: Any, out_file: str,
                  palette: Optional[Sequence[Sequence[int]]] = None,
                  opacity: float = 0.5) -> str:
    """Overlay ``seg`` on ``img`` (a path or a BGR array); write
    ``out_file`` (folders created) and return it."""
    image = read_image(img) if isinstance(img, str) else img
    blended = overlay_segmentation(image, seg, palette or PALETTE, opacity)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    if not cv2.imwrite(out_file, blended):
        raise IOError(f'cannot write overlay image {out_file}')
    return out_file
