"""Loading offline SeCo labels as an extra label map of a target sample."""
import os.path as osp

import numpy as np

from mmseg.registry import TRANSFORMS
from .loading import read_label

IGNORE_INDEX = 255


@TRANSFORMS.register_module()
class LoadSeCoLabel:
    """Load ``<label_dir>/<image base name>.png`` into ``seco_label``.

    The map joins ``seg_fields`` so resize, crop, flip and pad treat it like
    a label, and ``PackSegInputs`` passes it on; the ``SeCoLabels`` refiner
    then replaces the online pseudo-label where it is defined. An image
    without a SeCo label file gets an all-ignore map (no SeCo supervision).
    """

    def __init__(self, label_dir: str) -> None:
        if not osp.isdir(label_dir):
            raise FileNotFoundError(f'SeCo label folder not found: {label_dir}')
        self.label_dir = label_dir

    def __call__(self, results: dict) -> dict:
        stem = osp.splitext(osp.basename(results['filename']))[0]
        path = osp.join(self.label_dir, stem + '.png')
        shape = results['img'].shape[:2]
        if osp.isfile(path):
            label = read_label(path)
            if tuple(label.shape) != tuple(shape):
                raise ValueError(f'SeCo label {path} is {label.shape}, its '
                                 f'image {results["filename"]} is {shape}')
        else:
            label = np.full(shape, IGNORE_INDEX, dtype=np.uint8)
        results['seco_label'] = label.astype(np.uint8, copy=False)
        results.setdefault('seg_fields', [])
        results['seg_fields'].append('seco_label')
        return results
