"""Prediction PNGs as ``tools/test.py --format-only`` writes them, matched to
the test images and checked before anything is packed.

``PRED_DIR`` holds one train-id PNG per test image named ``<image stem>.png``
(flat, or below sub-folders with ``keep_subdirs=True``), plain 8-bit or
palette-indexed with the 19-class train-id palette; optionally
``PRED_DIR/confidence/`` holds the network's confidence for the same names
as 16-bit PNGs (max softmax probability x 65535, :mod:`.confidence`).
"""
import os
import os.path as osp
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

from mmseg.datasets.cityscapes_labels import PALETTE
from .servers import SubmissionError, TestImage

CONFIDENCE_DIR = 'confidence'
NUM_TRAIN_IDS = len(PALETTE)
FIX_HINT = ('write train-id PNGs with tools/test.py --format-only '
            '--eval-option to_label_id=False')


def index_pngs(folder: str) -> Dict[str, List[str]]:
    """``{file name: [paths]}`` of every ``.png`` below ``folder``."""
    found: Dict[str, List[str]] = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith('.png'):
                found.setdefault(name, []).append(osp.join(dirpath, name))
    return found


def _listing(names: Sequence[str], limit: int = 3) -> str:
    shown = ', '.join(names[:limit])
    more = len(names) - limit
    return shown + (f' and {more} more' if more > 0 else '')


def match_predictions(images: Sequence[TestImage], pred_dir: str
                      ) -> Tuple[Dict[str, str], Dict[str, str]]:
    """``({image name: prediction path}, {image name: confidence path})``.

    Raises:
        SubmissionError: one line naming the test images without a
            prediction, the predictions of no test image, and names found
            twice, with their counts; nothing is read further.
    """
    if not osp.isdir(pred_dir):
        raise SubmissionError(f'{pred_dir}: no such prediction folder')
    conf_dir = osp.join(pred_dir, CONFIDENCE_DIR)
    preds = index_pngs(pred_dir)
    confs = index_pngs(conf_dir) if osp.isdir(conf_dir) else {}
    for name, paths in list(preds.items()):
        kept = [p for p in paths if not p.startswith(conf_dir + os.sep)]
        if kept:
            preds[name] = kept
        else:
            del preds[name]
    wanted = {}
    for image in images:
        if image.name in wanted:
            raise SubmissionError(
                f'{wanted[image.name]} and {image.path} would both need the '
                f'prediction {image.name}')
        wanted[image.name] = image.path
    missing = [n for n in wanted if n not in preds]
    extra = sorted(n for n in preds if n not in wanted)
    twice = sorted(n for n in wanted if len(preds.get(n, ())) > 1)
    problems = []
    if missing:
        problems.append(f'{len(missing)} test image(s) without a prediction: '
                        f'{_listing(missing)}')
    if extra:
        problems.append(f'{len(extra)} prediction(s) of no test image: '
                        f'{_listing(extra)}')
    if twice:
        problems.append(f'{len(twice)} prediction(s) found more than once: '
                        f'{_listing(twice)}')
    if problems:
        raise SubmissionError(f'{pred_dir}: ' + '; '.join(problems) +
                              ' (expected exactly one <image name>.png per '
                              f'test image, {len(wanted)} in all)')
    pred_paths = {n: preds[n][0] for n in wanted}
    conf_paths = {n: confs[n][0] for n in wanted if n in confs}
    return pred_paths, conf_paths


def check_sizes(images: Sequence[TestImage], pred_paths: Dict[str, str],
                conf_paths: Dict[str, str]) -> None:
    """Every prediction (and confidence map) has its image's size and a
    single channel; read from the PNG headers only.

    Raises:
        SubmissionError: naming the first file of another size, or an RGB
            (colour) PNG.
    """
    for image in images:
        with Image.open(image.path) as img:
            size = img.size
        for path in (pred_paths[image.name], conf_paths.get(image.name)):
            if path is None:
                continue
            with Image.open(path) as pred:
                pred_size, mode = pred.size, pred.mode
            if mode in ('RGB', 'RGBA', 'LA', 'CMYK', 'YCbCr'):
                raise SubmissionError(
                    f'{path}: a colour ({mode}) PNG; the servers read class '
                    f'ids from a single-channel PNG: {FIX_HINT}')
            if pred_size != size:
                raise SubmissionError(
                    f'{path}: {pred_size[0]}x{pred_size[1]} but its image '
                    f'{image.path} is {size[0]}x{size[1]} (predict at the '
                    'original size)')


def read_train_ids(path: str) -> np.ndarray:
    """The ``[H, W]`` uint8 train ids of one prediction PNG.

    Raises:
        SubmissionError: the PNG is colour-coded (RGB, or a palette other
            than the train-id palette) or holds values outside 0-18.
    """
    with Image.open(path) as img:
        mode = img.mode
        palette = img.getpalette() if mode == 'P' else None
        if mode not in ('L', 'P', 'I', 'I;16'):
            raise SubmissionError(f'{path}: a {mode} PNG; {FIX_HINT}')
        ids = np.asarray(img)
    used = np.unique(ids)
    if palette is not None:
        colours = np.asarray(palette[:3 * 256] + [0] * (768 - len(
            palette[:768]))).reshape(-1, 3)
        known = np.asarray(PALETTE)
        wrong = [int(i) for i in used
                 if i >= NUM_TRAIN_IDS or not np.array_equal(colours[i],
                                                             known[i])]
        if wrong:
            raise SubmissionError(
                f'{path}: a palette-coloured PNG whose colours are not the '
                f'train-id palette (index {wrong[0]} is '
                f'{tuple(int(c) for c in colours[wrong[0]])}); {FIX_HINT}')
    bad = [int(v) for v in used if v >= NUM_TRAIN_IDS or v < 0]
    if bad:
        raise SubmissionError(
            f'{path}: values {_listing([str(v) for v in bad])} are not '
            f'train ids 0-{NUM_TRAIN_IDS - 1} (label ids or colours?); '
            f'{FIX_HINT}')
    return ids.astype(np.uint8)
