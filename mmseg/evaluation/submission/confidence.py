"""Confidence maps as the Dark Zurich server reads them: 16-bit single-channel
PNGs, ``round(confidence * 65535)`` with the confidence in [0, 1] (the
network's max softmax probability per pixel). The format of the UIoU
evaluation of Sakaridis et al., "Guided Curriculum Model Adaptation and
Uncertainty-Aware Evaluation for Semantic Nighttime Image Segmentation"
(ICCV 2019), as written by its authors' code and the public submissions.
"""
import io
import os
import os.path as osp
from typing import Any

import numpy as np
import torch
from PIL import Image

from .servers import SubmissionError

CONFIDENCE_SCALE = 65535


def confidence_to_uint16(confidence: Any) -> np.ndarray:
    """``[H, W]`` confidence in [0, 1] (tensor or array) -> uint16 levels
    (values outside [0, 1] are clipped)."""
    if isinstance(confidence, torch.Tensor):
        confidence = confidence.detach().float().cpu().numpy()
    conf = np.clip(np.asarray(confidence, dtype=np.float64).squeeze(), 0, 1)
    if conf.ndim != 2:
        raise ValueError(f'confidence map of shape {conf.shape}; expected '
                         '[H, W]')
    return np.rint(conf * CONFIDENCE_SCALE).astype(np.uint16)


def png_bytes(array: np.ndarray) -> bytes:
    """A single-channel PNG of ``array`` (uint8 -> 8-bit, uint16 -> 16-bit
    greyscale; no palette)."""
    if array.dtype not in (np.uint8, np.uint16):
        raise TypeError(f'cannot write a {array.dtype} PNG')
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format='PNG')
    return buffer.getvalue()


def save_confidence_png(confidence: Any, path: str) -> str:
    """Write ``confidence`` ``[H, W]`` in [0, 1] as a 16-bit PNG at
    ``path`` (folders created); returns ``path``."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'wb') as f:
        f.write(png_bytes(confidence_to_uint16(confidence)))
    return path


def read_confidence_png(path: str) -> np.ndarray:
    """``[H, W]`` float32 confidence in [0, 1] of a 16-bit PNG.

    Raises:
        SubmissionError: the PNG is not a 16-bit single-channel image.
    """
    with Image.open(path) as img:
        mode = img.mode
        levels = np.asarray(img)
    if mode not in ('I;16', 'I') or levels.ndim != 2:
        raise SubmissionError(f'{path}: a {mode} PNG; confidence maps are '
                              '16-bit single-channel PNGs (confidence x '
                              f'{CONFIDENCE_SCALE})')
    return (levels.astype(np.float32) / CONFIDENCE_SCALE).clip(0, 1)
