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


def night_shift_by_class(num_scenes: int = 12, seed: int = 0) -> Dict[str, float]:
    """How much each class's appearance changes from day to night, per class name.

    Each of ``num_scenes`` scenes is rendered by day and by night; per class the change is
    ``|log((mean_night(c) / mean_night) / (mean_day(c) / mean_day))|``: the change of the
    class's grey level relative to its own image's mean (0 = the class keeps its place in the
    image's brightness order), averaged over the scenes with at least 20 pixels of the class.
    Classes never shown are left out.
    """
    from .render_day import render_day
    from .render_night import render_night
    from .scene import paint_scene
    changes: Dict[int, List[float]] = {}
    for i in range(num_scenes):
        scene = paint_scene(np.random.default_rng([seed, i, 0]))
        day, night = (cv2.cvtColor(render(scene, np.random.default_rng([seed, i, k])),
                                   cv2.COLOR_BGR2GRAY).astype(np.float64)
                      for k, render in ((1, render_day), (2, render_night)))
        for c in range(NUM_CLASSES):
            mask = scene.label == c
            if mask.sum() >= 20:
                rel_day = day[mask].mean() / max(day.mean(), 1e-6)
                rel_night = night[mask].mean() / max(night.mean(), 1e-6)
                changes.setdefault(c, []).append(
                    abs(np.log(max(rel_night, 1e-6) / max(rel_day, 1e-6))))
    return {CLASS_NAMES[c]: float(np.mean(v)) for c, v in sorted(changes.items())}
