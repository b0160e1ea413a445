"""PSA (pixel semantic aggregation): turn a sparse pseudo-label into SAM masks.

- Stuff classes ("semantic alignment"): every automatic mask takes the stuff
  class with the largest share of its labelled pixels if that share is
  > 20 %; later masks overwrite earlier ones.
- Thing classes ("box + point prompts"): every 8-connected component of
  >= 10 pixels prompts one mask with its box (the min-area rectangle of its
  largest contour, grown by the unclip ratio 1.25, as an axis-aligned box)
  and 2 positive points: the pixels of lowest spatial purity (most
  homogeneous 17x17 neighbourhood) in the two halves of the component's
  pixels in raster order. Thing masks overwrite stuff.
- Pixels outside every assigned mask are 255.

The segmenter is reached through :class:`MaskGenerator`; SAM itself is
wrapped by :class:`SamMaskGenerator` (optional ``segment_anything``).
"""
import math
from typing import List, Protocol, Sequence

import cv2
import numpy as np

from mmseg.seco.components import (IGNORE_INDEX, connected_components,
                                   spatial_purity)

STUFF_CLASSES = (0, 1, 2, 3, 4, 8, 9, 10)
THING_CLASSES = (5, 6, 7, 11, 12, 13, 14, 15, 16, 17, 18)


class MaskGenerator(Protocol):
    """What PSA needs from a promptable segmenter (SAM or a test double)."""

    def set_image(self, image: np.ndarray) -> None:
        """Use ``image`` (``[H, W, 3]`` uint8 RGB) for the next calls."""

    def automatic_masks(self) -> List[np.ndarray]:
        """Bool ``[H, W]`` masks of the whole image, in generation order."""

    def prompted_mask(self, box: np.ndarray, points: np.ndarray,
                      point_labels: np.ndarray) -> np.ndarray:
        """One bool ``[H, W]`` mask for a ``[x0, y0, x1, y1]`` box and
        ``[N, 2]`` (x, y) points with labels (1 = foreground)."""


class SamMaskGenerator:
    """:class:`MaskGenerator` backed by Segment Anything.

    Args:
        checkpoint: SAM weights (e.g. ``sam_vit_h_4b8939.pth``).
        model_type: ``vit_h`` (SeCo), ``vit_l`` or ``vit_b`` (SeCoV2).
        device: torch device of SAM.
        **automatic_cfg: arguments of ``SamAutomaticMaskGenerator``
            (SeCo uses the defaults).
    """

    def __init__(self, checkpoint: str, model_type: str = 'vit_h',
                 device: str = 'cuda', **automatic_cfg) -> None:
        try:
            from segment_anything import (SamAutomaticMaskGenerator,
                                          SamPredictor, sam_model_registry)
        except ImportError as err:
            raise ImportError(
                'PSA needs the segment_anything package (pip install '
                'git+https://github.com/facebookresearch/segment-anything) '
                'and a SAM checkpoint; without them run SCC on the raw '
                'pseudo-labels') from err
        sam = sam_model_registry[model_type](checkpoint=checkpoint)
        sam.to(device=device)
        self.predictor = SamPredictor(sam)
        self.automatic = SamAutomaticMaskGenerator(sam, **automatic_cfg)
        self.image = None

    def set_image(self, image: np.ndarray) -> None:
        self.image = image
        self.predictor.set_image(image)

    def automatic_masks(self) -> List[np.ndarray]:
        return [m['segmentation'] for m in self.automatic.generate(self.image)]

    def prompted_mask(self, box, points, point_labels) -> np.ndarray:
        masks, _, _ = self.predictor.predict(
            point_coords=points, point_labels=point_labels, box=box,
            multimask_output=False)
        return masks[0].astype(bool)


def unclipped_box(mask: np.ndarray, unclip_ratio: float = 1.25) -> np.ndarray:
    """Axis-aligned ``[x0, y0, x1, y1]`` around the grown min-area rectangle.

    The rectangle of the largest contour is grown by
    ``area * ratio / perimeter`` (round joins), which moves each side of its
    axis-aligned bounding box out by that distance; clipped to the image.
    """
    contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_LIST,
                                   cv2.CHAIN_APPROX_NONE)
    largest = max(contours, key=cv2.contourArea)
    rect = cv2.minAreaRect(largest)
    corners = cv2.boxPoints(rect)
    width, height = rect[1]
    perimeter = 2 * (width + height)
    grow = width * height * unclip_ratio / perimeter if perimeter >= 0.01 \
        else 0.0
    h, w = mask.shape
    x0 = min(max(math.floor(corners[:, 0].min() - grow), 0), w - 1)
    x1 = min(max(math.ceil(corners[:, 0].max() + grow), 0), w - 1)
    y0 = min(max(math.floor(corners[:, 1].min() - grow), 0), h - 1)
    y1 = min(max(math.ceil(corners[:, 1].max() + grow), 0), h - 1)
    return np.array([x0, y0, x1, y1])


def purest_points(mask: np.ndarray, purity: np.ndarray,
                  num_points: int = 2) -> np.ndarray:
    """``[num_points, 2]`` (x, y): the lowest-purity pixel of each of
    ``num_points`` consecutive chunks of the mask's pixels (raster order)."""
    ys, xs = np.nonzero(mask)
    points = []
    for chunk in np.array_split(np.arange(len(ys)), num_points):
        if len(chunk) == 0:
            continue
        best = chunk[np.argmin(purity[ys[chunk], xs[chunk]])]
        points.append((xs[best], ys[best]))
    return np.array(points)


def _assign_stuff(out: np.ndarray, pseudo: np.ndarray,
                  masks: Sequence[np.ndarray], stuff: Sequence[int],
                  threshold: float) -> None:
    for mask in masks:
        labelled = pseudo[mask & (pseudo != IGNORE_INDEX)]
        if labelled.size == 0 or not stuff:
            continue
        shares = [np.mean(labelled == c) for c in stuff]
        best = int(np.argmax(shares))
        if shares[best] > threshold:
            out[mask] = stuff[best]


def pixel_semantic_aggregation(image: np.ndarray,
                               pseudo: np.ndarray,
                               generator: MaskGenerator,
                               stuff_classes: Sequence[int] = STUFF_CLASSES,
                               thing_classes: Sequence[int] = THING_CLASSES,
                               stuff_threshold: float = 0.2,
                               min_pixels: int = 10,
                               unclip_ratio: float = 1.25,
                               num_points: int = 2,
                               purity_radius: int = 8,
                               num_classes: int = 19) -> np.ndarray:
    """PSA label (uint8 ``[H, W]``, 255 = unassigned) of one image.

    ``image`` (``[H, W, 3]`` uint8 RGB) must have the size of ``pseudo``.
    """
    if image.shape[:2] != pseudo.shape:
        raise ValueError(f'psa.py: image {image.shape[:2]} and pseudo-label '
                         f'{pseudo.shape} sizes differ')
    out = np.full(pseudo.shape, IGNORE_INDEX, dtype=np.uint8)
    present = set(np.unique(pseudo).tolist())
    generator.set_image(image)
    stuff = [c for c in stuff_classes if c in present]
    _assign_stuff(out, pseudo, generator.automatic_masks(), stuff,
                  stuff_threshold)
    things = [c for c in thing_classes if c in present]
    if not things:
        return out
    purity = spatial_purity(pseudo, num_classes, purity_radius)
    for component in connected_components(pseudo, classes=things,
                                          min_area=min_pixels):
        mask = component.full_mask(pseudo.shape)
        box = unclipped_box(mask, unclip_ratio)
        points = purest_points(mask, purity, num_points)
        prompted = generator.prompted_mask(box, points,
                                           np.ones(len(points), dtype=int))
        out[prompted.astype(bool)] = component.label
    return out
