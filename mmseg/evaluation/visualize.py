"""Colour overlays of segmentation maps (``tools/test.py --show-dir``).

:func:`show_image` composes what ``--show-dir`` writes: image | ground truth |
prediction side by side when the sample has labels (else the prediction
overlay alone), with a legend of the classes that appear.
"""
import os
import os.path as osp
from typing import Any, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch

from mmseg.datasets.cityscapes_labels import CLASSES, PALETTE
from mmseg.datasets.transforms.loading import read_image


def colorize(seg: np.ndarray, palette: Sequence[Sequence[int]] = PALETTE,
             ignore_index: int = 255) -> np.ndarray:
    """RGB image of a train-id map; ignored / unknown ids are black."""
    lut = np.zeros((256, 3), dtype=np.uint8)
    lut[:len(palette)] = np.asarray(palette, dtype=np.uint8)
    lut[ignore_index] = 0
    return lut[seg.astype(np.uint8)]


def overlay_segmentation(img: np.ndarray, seg: Any,
                         palette: Sequence[Sequence[int]] = PALETTE,
                         opacity: float = 0.5,
                         ignore_index: int = 255) -> np.ndarray:
    """Blend ``seg`` coloured by ``palette`` over a BGR uint8 image:
    ``img * (1 - opacity) + colour * opacity``; ignored pixels keep the
    image. ``seg`` is nearest-resized to the image when sizes differ."""
    if not 0 <= opacity <= 1:
        raise ValueError(f'opacity must be in [0, 1], got {opacity}')
    if isinstance(seg, torch.Tensor):
        seg = seg.detach().cpu().numpy()
    seg = np.asarray(seg).squeeze()
    if seg.shape != img.shape[:2]:
        seg = cv2.resize(seg.astype(np.uint8), img.shape[1::-1],
                         interpolation=cv2.INTER_NEAREST)
    color = colorize(seg, palette, ignore_index)[..., ::-1].astype(np.float32)
    out = img.astype(np.float32) * (1 - opacity) + color * opacity
    out = np.where((seg == ignore_index)[..., None], img, out)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def write_overlay(img: Union[str, np.ndarray], seg: Any, out_file: str,
                  palette: Optional[Sequence[Sequence[int]]] = None,
                  opacity: float = 0.5) -> str:
    """Overlay ``seg`` on ``img`` (a path or a BGR array); write
    ``out_file`` (folders created) and return it."""
    image = read_image(img) if isinstance(img, str) else img
    blended = overlay_segmentation(image, seg, palette or PALETTE, opacity)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    if not cv2.imwrite(out_file, blended):
        raise IOError(f'cannot write overlay image {out_file}')
    return out_file


LEGEND_ENTRY_WIDTH = 170  # pixels per legend entry
LEGEND_ROW_HEIGHT = 22
TITLE_HEIGHT = 22


def _as_map(seg: Any) -> np.ndarray:
    if isinstance(seg, torch.Tensor):
        seg = seg.detach().cpu().numpy()
    return np.asarray(seg).squeeze()


def _put_text(img: np.ndarray, text: str, org) -> None:
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.45, (0, 0, 0), 1,
                cv2.LINE_AA)


def titled(img: np.ndarray, title: str) -> np.ndarray:
    """``img`` (BGR uint8) under a white bar holding ``title``."""
    bar = np.full((TITLE_HEIGHT, img.shape[1], 3), 255, dtype=np.uint8)
    _put_text(bar, title, (4, TITLE_HEIGHT - 7))
    return np.vstack([bar, img])


def legend_rows(num_entries: int, width: int) -> int:
    """Rows a legend of ``num_entries`` needs in a strip ``width`` px wide."""
    per_row = max(1, width // LEGEND_ENTRY_WIDTH)
    return max(1, -(-num_entries // per_row))


def legend(class_ids: Sequence[int], width: int,
           classes: Sequence[str] = CLASSES,
           palette: Sequence[Sequence[int]] = PALETTE,
           rows: Optional[int] = None) -> np.ndarray:
    """A white BGR strip ``width`` pixels wide: a colour swatch and the name
    of each of ``class_ids``, as many per row as fit. ``rows``: the strip's
    height in rows (default: as many as ``class_ids`` need); pass
    ``legend_rows(len(classes), width)`` for one height whatever is
    present."""
    per_row = max(1, width // LEGEND_ENTRY_WIDTH)
    rows = max(rows or 1, legend_rows(len(class_ids), width))
    strip = np.full((rows * LEGEND_ROW_HEIGHT + 6, width, 3), 255, np.uint8)
    for k, c in enumerate(class_ids):
        x = 6 + (k % per_row) * LEGEND_ENTRY_WIDTH
        y = 4 + (k // per_row) * LEGEND_ROW_HEIGHT
        color = tuple(int(v) for v in palette[c][::-1]) if c < len(
            palette) else (0, 0, 0)
        cv2.rectangle(strip, (x, y), (x + 14, y + 14), color, -1)
        cv2.rectangle(strip, (x, y), (x + 14, y + 14), (0, 0, 0), 1)
        name = classes[c] if c < len(classes) else str(c)
        _put_text(strip, name, (x + 20, y + 12))
    return strip


def present_classes(*maps: np.ndarray, num_classes: int,
                    ignore_index: int = 255) -> List[int]:
    """Sorted class ids below ``num_classes`` found in any of ``maps``."""
    found = set()
    for seg in maps:
        found.update(int(v) for v in np.unique(seg))
    return sorted(c for c in found if c != ignore_index and c < num_classes)


def show_image(img: np.ndarray, pred: Any, label: Any = None,
               classes: Sequence[str] = CLASSES,
               palette: Sequence[Sequence[int]] = PALETTE,
               opacity: float = 0.5, ignore_index: int = 255,
               show_input: bool = True,
               size: Optional[Tuple[int, int]] = None) -> np.ndarray:
    """BGR uint8 figure of one prediction, each panel titled: ``image |
    ground truth | prediction`` when ``label`` is given, ``image |
    prediction`` without (``show_input=False``: no image panel; with
    neither label nor image panel, the untitled overlay alone); below, the
    legend of the classes in either map, with room for all ``classes``.

    ``pred`` and ``label`` are train-id maps ``[H, W]`` (any size: they are
    nearest-resized to the image). ``size``: ``(width, height)`` the image
    is resized to first (bilinear), so that every figure of a run has one
    size."""
    if size is not None and tuple(img.shape[1::-1]) != tuple(size):
        img = cv2.resize(img, tuple(size), interpolation=cv2.INTER_LINEAR)
    pred = _as_map(pred)
    panels = [titled(img, 'image')] if show_input else []
    maps = [pred]
    if label is not None:
        label = _as_map(label)
        maps.append(label)
        panels.append(titled(overlay_segmentation(
            img, label, palette, opacity, ignore_index), 'ground truth'))
    overlay = overlay_segmentation(img, pred, palette, opacity, ignore_index)
    panels.append(titled(overlay, 'prediction') if panels else overlay)
    row = np.hstack(panels)
    ids = present_classes(*maps, num_classes=len(classes),
                          ignore_index=ignore_index)
    return np.vstack([row, legend(ids, row.shape[1], classes, palette,
                                  rows=legend_rows(len(classes),
                                                   row.shape[1]))])


def write_show_image(img: Union[str, np.ndarray], pred: Any, out_file: str,
                     label: Any = None, **kwargs) -> str:
    """:func:`show_image` of ``img`` (a path or a BGR array) written to
    ``out_file`` (folders created); returns ``out_file``."""
    image = read_image(img) if isinstance(img, str) else img
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    if not cv2.imwrite(out_file, show_image(image, pred, label, **kwargs)):
        raise IOError(f'cannot write image {out_file}')
    return out_file
