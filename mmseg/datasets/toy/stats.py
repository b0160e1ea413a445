"""Per-split class statistics of a generated toy set, measured at a given resolution.

``split_label_paths(root)`` lists the label files of every labelled split; ``class_frequencies``
returns, per class, the share of labelled pixels and of images that contain it (presence), after
resizing the labels to the training resolution (nearest neighbour, as the training pipeline
resizes the ground truth).
"""
import glob
import os.path as osp
from typing import Dict, List, Sequence

import cv2
import numpy as np

from .classes import CLASS_NAMES, NUM_CLASSES

# split name -> glob of its label files under the toy root
LABELLED_SPLITS = {
    'day_train': 'cityscapes/gtFine/train/*/*_gtFine_labelTrainIds.png',
    'day_val': 'cityscapes/gtFine/val/*/*_gtFine_labelTrainIds.png',
    'night_val': 'dark_zurich/gt/val/night/*/*_gt_labelTrainIds.png',
    'night_oracle_train': 'night_oracle/gt/train/night/*/*_gt_labelTrainIds.png',
    'prompt': 'prompt/gt/*_labelTrainIds.png',
}


def split_label_paths(root: str) -> Dict[str, List[str]]:
    """Sorted label files of every labelled split present under ``root`` (empty splits left out).

    Raises:
        FileNotFoundError: ``root`` is not a folder.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f'no toy set at {root}')
    out = {}
    for name, pattern in LABELLED_SPLITS.items():
        paths = sorted(glob.glob(osp.join(root, pattern)))
        if paths:
            out[name] = paths
    return out


def class_frequencies(labels: Sequence[np.ndarray], scale: float = 1.0) -> Dict[str, np.ndarray]:
    """Class statistics of label maps (train ids, 255 = ignore) resized by ``scale``.

    Returns ``pixel_share`` (19,): share of the labelled pixels of all images, in percent;
    ``presence`` (19,): percent of images with at least ``1`` pixel of the class; ``mean_pixels``
    (19,): mean pixel count per image that contains the class, at the given scale.
    """
    counts = np.zeros((len(labels), NUM_CLASSES), np.int64)
    for i, label in enumerate(labels):
        if scale != 1.0:
            h, w = label.shape
            label = cv2.resize(label, (int(round(w * scale)), int(round(h * scale))),
                               interpolation=cv2.INTER_NEAREST)
        counts[i] = np.bincount(label.ravel(), minlength=256)[:NUM_CLASSES]
    total = max(int(counts.sum()), 1)
    present = counts > 0
    with np.errstate(invalid='ignore', divide='ignore'):
        mean_pixels = np.where(present.any(0), counts.sum(0) / np.maximum(present.sum(0), 1), 0)
    return dict(pixel_share=100.0 * counts.sum(0) / total,
                presence=100.0 * present.mean(0) if len(labels) else np.zeros(NUM_CLASSES),
                mean_pixels=mean_pixels)


def frequency_table(root: str, scale: float = 1.0, splits: Sequence[str] = ()) -> str:
    """A Markdown table: per class, pixel share % / presence % for each labelled split."""
    found = split_label_paths(root)
    names = [s for s in (splits or found) if s in found]
    if not names:
        raise FileNotFoundError(f'no labelled split {list(splits) or ""} under {root}')
    stats = {}
    for name in names:
        labels = [cv2.imread(p, cv2.IMREAD_UNCHANGED) for p in found[name]]
        stats[name] = class_frequencies(labels, scale)
    head = '| class | ' + ' | '.join(f'{n} ({len(found[n])} img): px % / img % / px per img'
                                      for n in names) + ' |'
    rows = [head, '|---|' + '---|' * len(names)]
    for c, cls in enumerate(CLASS_NAMES):
        cells = [f'{stats[n]["pixel_share"][c]:.2f} / {stats[n]["presence"][c]:.0f} / '
                 f'{stats[n]["mean_pixels"][c]:.0f}' for n in names]
        rows.append(f'| {cls} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(rows)
