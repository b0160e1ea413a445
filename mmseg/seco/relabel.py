"""SCC correction: relabel components by the classifier, filter by loss.

Thresholds follow SeCo's ``determine_threshold``: the value at index
``min(int(n * ratio), n - 1)`` of the sorted list (ratio 0.5: the median).
Filter modes (a component is dropped to 255 when):

- ``'loss'``: its loss is above the global threshold;
- ``'local_loss'``: its loss is above the threshold of its predicted class;
- ``'both_loss'``: above the class threshold and above the mean of the
  components' class thresholds;
- ``None``/``'none'``: nothing is dropped.
"""
import os
import os.path as osp
from typing import Optional

import numpy as np
from PIL import Image

from mmseg.datasets.transforms.loading import read_label as read_checked

FILTER_MODES = (None, 'none', 'loss', 'local_loss', 'both_loss')
IGNORE_INDEX = 255


def ratio_threshold(values: np.ndarray, ratio: float = 0.5) -> float:
    """Sorted value at ``min(int(n * ratio), n - 1)``."""
    ordered = np.sort(np.asarray(values, dtype=np.float64))
    if ordered.size == 0:
        raise ValueError('relabel.py: no values to threshold')
    return float(ordered[min(int(ordered.size * ratio), ordered.size - 1)])


def class_thresholds(losses: np.ndarray, classes: np.ndarray,
                     ratio: float = 0.5) -> np.ndarray:
    """Per component, the loss threshold of its class."""
    out = np.zeros(len(losses), dtype=np.float64)
    for cls in np.unique(classes):
        members = classes == cls
        out[members] = ratio_threshold(losses[members], ratio)
    return out


def keep_components(losses: np.ndarray, pred: np.ndarray,
                    mode: Optional[str] = 'both_loss',
                    ratio: float = 0.5) -> np.ndarray:
    """Bool array: which components survive the filter ``mode``."""
    if mode not in FILTER_MODES:
        raise ValueError(f'relabel.py: filter mode must be one of '
                         f'{FILTER_MODES}, got {mode!r}')
    losses = np.asarray(losses, dtype=np.float64)
    if mode in (None, 'none') or losses.size == 0:
        return np.ones(losses.shape, dtype=bool)
    if mode == 'loss':
        return losses <= ratio_threshold(losses, ratio)
    local = class_thresholds(losses, np.asarray(pred), ratio)
    if mode == 'local_loss':
        return losses <= local
    return ~((losses > local) & (losses > local.mean()))


def confident_labels(probs: np.ndarray, threshold: float = 0.9) -> np.ndarray:
    """uint8 argmax of ``probs [C, H, W]``; 255 where max < threshold."""
    label = probs.argmax(axis=0).astype(np.uint8)
    label[probs.max(axis=0) < threshold] = IGNORE_INDEX
    return label


def label_name(filename: str) -> str:
    """PNG name of an image's SeCo label: its base name with ``.png``."""
    return osp.splitext(osp.basename(filename))[0] + '.png'


def write_label(label: np.ndarray, path: str) -> None:
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    Image.fromarray(np.asarray(label, dtype=np.uint8)).save(path)


def read_label(path: str) -> np.ndarray:
    """A SeCo label PNG as ``[H, W]`` train ids.

    Raises:
        FileNotFoundError: missing; ``CorruptFileError``: undecodable
            (truncated); ValueError: not single-channel. Each names ``path``.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'SeCo label not found: {path}')
    return read_checked(path)
