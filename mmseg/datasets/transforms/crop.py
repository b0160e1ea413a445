"""Random crop with the mmseg-0.x ``cat_max_ratio`` re-draws."""
from typing import Sequence, Tuple

import numpy as np

from mmseg.registry import TRANSFORMS

Box = Tuple[int, int, int, int]  # y1, y2, x1, x2


def random_crop_box(img_hw: Sequence[int], crop_hw: Sequence[int],
                    rng: np.random.Generator) -> Box:
    """A uniformly placed ``crop_hw`` window inside ``img_hw``."""
    margin_h = max(img_hw[0] - crop_hw[0], 0)
    margin_w = max(img_hw[1] - crop_hw[1], 0)
    y1 = int(rng.integers(0, margin_h + 1))
    x1 = int(rng.integers(0, margin_w + 1))
    return y1, y1 + crop_hw[0], x1, x1 + crop_hw[1]


def crop_array(arr: np.ndarray, box: Box) -> np.ndarray:
    y1, y2, x1, x2 = box
    return arr[y1:y2, x1:x2, ...]


@TRANSFORMS.register_module()
class RandomCrop:
    """Crop ``crop_size = (h, w)`` from the image and all seg fields.

    With ``cat_max_ratio < 1`` the box is re-drawn up to 10 times until no
    single non-ignored class covers ``cat_max_ratio`` or more of the label
    crop (and at least two classes are present); the last box is kept.
    """

    NUM_REDRAWS = 10

    def __init__(self, crop_size: Sequence[int], cat_max_ratio: float = 1.,
                 ignore_index: int = 255) -> None:
        if len(crop_size) != 2 or min(crop_size) <= 0:
            raise ValueError(f'crop_size must be (h, w) > 0, got {crop_size}')
        self.crop_size = (int(crop_size[0]), int(crop_size[1]))
        self.cat_max_ratio = cat_max_ratio
        self.ignore_index = ignore_index

    def _dominated(self, label_crop: np.ndarray) -> bool:
        counts = np.bincount(label_crop.ravel(), minlength=256)
        counts[self.ignore_index] = 0
        counts = counts[counts > 0]
        return not (len(counts) > 1
                    and counts.max() / counts.sum() < self.cat_max_ratio)

    def __call__(self, results: dict) -> dict:
        rng = results['rng']
        img_hw = results['img'].shape[:2]
        box = random_crop_box(img_hw, self.crop_size, rng)
        if self.cat_max_ratio < 1. and 'gt_semantic_seg' in results:
            for _ in range(self.NUM_REDRAWS):
                if not self._dominated(
                        crop_array(results['gt_semantic_seg'], box)):
                    break
                box = random_crop_box(img_hw, self.crop_size, rng)
        results['img'] = crop_array(results['img'], box)
        for key in results.get('seg_fields', []):
            results[key] = crop_array(results[key], box)
        results['img_shape'] = results['img'].shape
        results['crop_box'] = box
        return results
