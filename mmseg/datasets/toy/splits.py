"""Per-image seeding of each split and forcing every class to appear in a split."""
from dataclasses import dataclass
from typing import List

import numpy as np

from .canvas import Canvas
from .classes import NUM_CLASSES
from .scene import paint_scene

_SPLIT_CODES = {'source_train': 1, 'source_val': 2, 'target_train': 3, 'target_val': 4,
                'target_test': 5, 'prompt': 6, 'night_oracle_train': 7}


@dataclass(frozen=True)
class _Split:
    """One generated split: its file naming and how it is rendered."""
    key: str
    night: bool
    labelled: bool
    count: int
    label_ids: bool = False  # also write Cityscapes labelIds next to the trainIds


def _image_rng(seed: int, split: str, index: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, _SPLIT_CODES[split], index, stream]))


def _coverage_force(present: np.ndarray, index: int, count: int) -> List[int]:
    """Classes the remaining images of a split must add so that every class (and 255) appears."""
    missing = [int(i) for i in np.flatnonzero(~present)]
    remaining = count - index
    if not missing or remaining > len(missing):
        return []
    return missing[:int(np.ceil(len(missing) / remaining))] if remaining > 1 else missing


def _class_presence(label: np.ndarray) -> np.ndarray:
    """Boolean per class id 0..18 plus index 19 for the ignore value."""
    return np.bincount(np.minimum(label.ravel(), NUM_CLASSES), minlength=NUM_CLASSES + 1) > 0


def _paint_forced(seed: int, key: str, index: int, force: List[int]) -> Canvas:
    """Paint a scene; with forced classes, redraw (deterministically) until all of them show."""
    best, best_missing = None, None
    for attempt in range(8 if force else 1):
        canvas = paint_scene(_image_rng(seed, key, index, 2 * attempt), force)
        found = _class_presence(canvas.label)
        missing = sum(not found[min(f, NUM_CLASSES)] for f in force)
        if best is None or missing < best_missing:
            best, best_missing = canvas, missing
        if missing == 0:
            break
    return best
