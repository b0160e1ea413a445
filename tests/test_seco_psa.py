"""SeCo PSA with a fake mask generator."""
import numpy as np
import pytest

from mmseg.seco.components import spatial_purity
from mmseg.seco.psa import (SamMaskGenerator, pixel_semantic_aggregation,
                            purest_points, unclipped_box)


class FakeGenerator:
    """Automatic masks given up front; prompted masks = the prompt's box."""

    def __init__(self, automatic):
        self.automatic = automatic
        self.prompts = []
        self.image = None

    def set_image(self, image):
        self.image = image

    def automatic_masks(self):
        return self.automatic

    def prompted_mask(self, box, points, point_labels):
        self.prompts.append((box, points, point_labels))
        mask = np.zeros(self.image.shape[:2], dtype=bool)
        x0, y0, x1, y1 = box
        mask[y0:y1 + 1, x0:x1 + 1] = True
        return mask


def _scene():
    pseudo = np.full((20, 20), 255, dtype=np.uint8)
    pseudo[0:2, 0:3] = 0       # road: 6 px in mask A
    pseudo[2, 0:2] = 1         # sidewalk: 2 px in mask A (25 %)
    pseudo[10, 0] = 2          # building: 1 px in mask B ...
    pseudo[11, 0:10] = 13      # ... with 10 px of car: building share 9 %
    pseudo[14:18, 12:17] = 11  # a person component of 20 px
    pseudo[0, 19] = 12         # a 1-px rider: too small for a prompt
    mask_a = np.zeros((20, 20), bool)
    mask_a[0:4, 0:10] = True
    mask_b = np.zeros((20, 20), bool)
    mask_b[9:13, 0:10] = True
    return pseudo, [mask_a, mask_b]


def test_stuff_majority_and_thing_prompts():
    pseudo, masks = _scene()
    image = np.zeros((20, 20, 3), dtype=np.uint8)
    gen = FakeGenerator(masks)
    out = pixel_semantic_aggregation(image, pseudo, gen)
    a, b = masks
    assert (out[a] == 0).all()  # 75 % road > 20 %: whole mask is road
    # mask B: building 9 % <= 20 %: only the car's prompted mask is set
    assert (out[b & (out != 13)] == 255).all()
    assert len(gen.prompts) == 2  # the car and the person (>= 10 px)
    classes = sorted(int(out[p[1][0][1], p[1][0][0]]) for p in gen.prompts)
    assert classes == [11, 13]
    for box, points, labels in gen.prompts:
        assert points.shape == (2, 2) and labels.tolist() == [1, 1]
    person_box = [p[0] for p in gen.prompts if out[p[1][0][1],
                                                   p[1][0][0]] == 11][0]
    x0, y0, x1, y1 = person_box
    assert x0 <= 12 and y0 <= 14 and x1 >= 16 and y1 >= 17  # covers it
    assert x0 < 12 and x1 > 16  # grown by the unclip ratio
    assert out[0, 19] == 255  # 1-px rider: no prompt, no stuff mask
    outside = ~(a | b)
    for box, _, _ in gen.prompts:
        outside[box[1]:box[3] + 1, box[0]:box[2] + 1] = False
    assert (out[outside] == 255).all()


def test_stuff_threshold_is_strict():
    pseudo = np.full((4, 5), 255, dtype=np.uint8)
    pseudo[0, :] = [2, 13, 13, 13, 13]  # building share exactly 20 %
    mask = np.zeros((4, 5), bool)
    mask[0, :] = True
    out = pixel_semantic_aggregation(np.zeros((4, 5, 3), np.uint8), pseudo,
                                     FakeGenerator([mask]), min_pixels=10)
    assert (out == 255).all()


def test_unclipped_box_grows_by_area_over_perimeter():
    mask = np.zeros((40, 40), bool)
    mask[10:20, 10:30] = True
    x0, y0, x1, y1 = unclipped_box(mask, 1.25)
    # contour rectangle 19 x 9 px: grow = 19*9*1.25/56 = 3.8
    assert (x0, y0, x1, y1) == (6, 6, 33, 23)


def test_points_are_purest_pixel_of_each_half():
    pseudo = np.zeros((12, 12), dtype=np.uint8)
    pseudo[:, 6:] = 11
    pseudo[5:7, 6:8] = 3  # impurity near the component's top-left
    mask = pseudo == 11
    purity = spatial_purity(pseudo, radius=2)
    points = purest_points(mask, purity, 2)
    ys, xs = np.nonzero(mask)
    half = len(ys) // 2
    for (x, y), sl in zip(points, (slice(0, half), slice(half, None))):
        assert mask[y, x]
        assert purity[y, x] == purity[ys[sl], xs[sl]].min()


def test_sam_wrapper_explains_missing_package():
    with pytest.raises(ImportError, match='segment_anything'):
        SamMaskGenerator('missing.pth')
