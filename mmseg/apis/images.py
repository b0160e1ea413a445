"""Inputs of :func:`mmseg.apis.inference_model`: paths or arrays, made BGR
uint8 ``[H, W, 3]`` as the datasets' ``LoadImageFromFile`` gives them."""
import os
from typing import Any, Optional, Tuple

import numpy as np

from mmseg.datasets.transforms.loading import read_image


class ImageInputError(ValueError):
    """An input image the API cannot use; the message names it."""


def as_bgr_uint8(img: np.ndarray, name: str) -> np.ndarray:
    """``img`` as a BGR ``uint8 [H, W, 3]`` array, converted like OpenCV's
    ``IMREAD_COLOR`` converts a file:

    - ``[H, W]`` or ``[H, W, 1]`` grey: repeated into three channels;
    - ``[H, W, 4]`` BGRA: the alpha channel dropped;
    - ``uint16`` (16-bit): shifted right by 8 bits (``65535 -> 255``).

    Raises:
        ImageInputError: any other dtype (float arrays have no agreed
            scale), channel count or an empty image, naming ``name``.
    """
    if not isinstance(img, np.ndarray):
        raise ImageInputError(f'{name}: expected an image path or a numpy '
                              f'array, got {type(img).__name__}')
    if img.dtype == np.uint16:
        img = (img >> 8).astype(np.uint8)
    elif img.dtype != np.uint8:
        raise ImageInputError(
            f'{name}: array of dtype {img.dtype}; give uint8 (0..255) or '
            'uint16 (16-bit) BGR pixels')
    if img.ndim == 2:
        img = img[..., None]
    if img.ndim != 3 or img.shape[2] not in (1, 3, 4):
        raise ImageInputError(
            f'{name}: array of shape {tuple(img.shape)}; expected [H, W], '
            '[H, W, 1], [H, W, 3] (BGR) or [H, W, 4] (BGRA)')
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ImageInputError(f'{name}: empty image {tuple(img.shape)}')
    if img.shape[2] == 1:
        img = np.repeat(img, 3, axis=2)
    elif img.shape[2] == 4:
        img = img[..., :3]
    return np.ascontiguousarray(img)


def load_input(item: Any, name: str) -> Tuple[np.ndarray, Optional[str]]:
    """``(BGR uint8 image, path or None)`` of a path or an array.

    Files are decoded as the datasets decode them (OpenCV ``IMREAD_COLOR``:
    grey, 16-bit and alpha handled as in :func:`as_bgr_uint8`), so a dataset
    image gives exactly the pixels ``tools/test.py`` sees.

    Raises:
        FileNotFoundError, CorruptFileError: a path that is missing or not
            an image (naming it).
        ImageInputError: an array :func:`as_bgr_uint8` refuses.
    """
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        return read_image(path), path
    return as_bgr_uint8(item, name), None
