"""Loading of images (cv2, BGR) and label maps (PIL, unchanged)."""
import os.path as osp
from typing import Optional

import cv2
import numpy as np
from PIL import Image

from mmseg.registry import TRANSFORMS


class CorruptFileError(IOError):
    """An image or label file exists but cannot be decoded."""


def file_error(cls: type, message: str, filename: str) -> Exception:
    """``cls(message)`` with the offending path in ``.bad_file``."""
    err = cls(message)
    err.bad_file = filename
    return err


def read_image(filename: str) -> np.ndarray:
    """Decode an image file to a uint8 BGR array; errors name the file."""
    if not osp.isfile(filename):
        raise file_error(FileNotFoundError,
                         f'image file not found: {filename}', filename)
    data = np.fromfile(filename, dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if img is None:
        raise file_error(CorruptFileError, 'cannot decode image file '
                         f'(corrupt or not an image): {filename}', filename)
    return img


def read_label(filename: str) -> np.ndarray:
    """Read a label map with PIL, unchanged (no palette conversion)."""
    if not osp.isfile(filename):
        raise file_error(FileNotFoundError,
                         f'label file not found: {filename}', filename)
    try:
        with Image.open(filename) as pil:
            label = np.array(pil)
    except (OSError, SyntaxError, ValueError) as err:
        raise file_error(CorruptFileError,
                         f'cannot decode label file {filename}: {err}',
                         filename) from err
    if label.ndim != 2:
        raise ValueError(f'label file {filename} has shape {label.shape}; '
                         'expected a single-channel train-id map')
    return label


@TRANSFORMS.register_module()
class LoadImageFromFile:
    """Load ``results['filename']`` as BGR uint8 and set the shape keys."""

    def __call__(self, results: dict) -> dict:
        return self.set_image(results, read_image(results['filename']))

    @staticmethod
    def set_image(results: dict, img: np.ndarray) -> dict:
        """Put a BGR uint8 ``img`` into ``results`` with the shape keys."""
        results['img'] = img
        results['img_shape'] = img.shape
        results['ori_shape'] = img.shape
        results['pad_shape'] = img.shape
        results['scale_factor'] = 1.0
        results.setdefault('seg_fields', [])
        results['img_norm_cfg'] = dict(
            mean=np.zeros(3, dtype=np.float32),
            std=np.ones(3, dtype=np.float32),
            to_rgb=False)
        return results


@TRANSFORMS.register_module()
class LoadImageFromNDArray(LoadImageFromFile):
    """:class:`LoadImageFromFile` for an image already decoded: takes the
    BGR uint8 ``results['img']`` and sets the same keys (the inference API
    puts it in front of a config's test pipeline)."""

    def __call__(self, results: dict) -> dict:
        return self.set_image(results, results['img'])


@TRANSFORMS.register_module()
class LoadAnnotations:
    """Load ``results['seg_map_path']`` into ``gt_semantic_seg``.

    Values must lie in ``{0..num_classes-1, ignore_index}`` and the map must
    have the image's original size; otherwise a ``ValueError`` names the
    file(s). Without a label path (a split without labels) nothing is done.
    """

    def __init__(self, check_values: bool = True) -> None:
        self.check_values = check_values

    def __call__(self, results: dict) -> dict:
        path: Optional[str] = results.get('seg_map_path')
        if path is None:
            return results
        label = read_label(path)
        self._check_size(label, results, path)
        if self.check_values:
            self._check_values(label, results, path)
        results['gt_semantic_seg'] = label.astype(np.uint8, copy=False)
        results.setdefault('seg_fields', [])
        if 'gt_semantic_seg' not in results['seg_fields']:
            results['seg_fields'].append('gt_semantic_seg')
        return results

    @staticmethod
    def _check_size(label: np.ndarray, results: dict, path: str) -> None:
        ori_shape = results.get('ori_shape')
        if ori_shape is not None and tuple(label.shape) != tuple(
                ori_shape[:2]):
            raise ValueError(
                f'label {path} has size {label.shape[1]}x{label.shape[0]} '
                f'but image {results.get("filename")} has size '
                f'{ori_shape[1]}x{ori_shape[0]}')

    @staticmethod
    def _check_values(label: np.ndarray, results: dict, path: str) -> None:
        num_classes = results.get('num_classes', 19)
        ignore_index = results.get('ignore_index', 255)
        if label.dtype != np.uint8:
            values = np.unique(label)
        else:
            values = np.flatnonzero(np.bincount(label.ravel(), minlength=256))
        bad = [int(v) for v in values
               if not (0 <= v < num_classes or v == ignore_index)]
        if bad:
            raise ValueError(
                f'label {path} holds values {bad[:10]} outside '
                f'{{0..{num_classes - 1}, {ignore_index}}}; convert label ids '
                'to train ids first (tools/convert_datasets)')
