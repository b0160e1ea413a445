"""Writing the toy set: PNG files, class statistics, the completion marker and the image counts.

The same seed gives byte-identical files. See :mod:`.layout` for the folder layout.
"""
import json
import os
import os.path as osp
import shutil
import uuid
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np

from ..class_stats import sample_stats, save_class_stats
from .classes import IGNORE_INDEX, NUM_CLASSES, train_ids_to_label_ids
from .layout import MARKER_FILE, _oracle_paths, _prompt_paths, _source_paths, _target_paths
from .render_day import render_day
from .render_night import render_night
from .splits import _class_presence, _coverage_force, _image_rng, _paint_forced, _Split

# Version 2: furniture, people and two-wheelers large enough at the training crops, a
# learnable night, every class forced into each labelled split, the night oracle train split.
# Version 3: more and nearer people, two-wheelers, traffic lights, walls and fences; buses and
# trains a little more frequent (still rarer than cars); 96 images in each train split and 24
# in day and night val.
FORMAT_VERSION = 3
DEFAULT_COUNTS = dict(num_source_train=96, num_source_val=24, num_target_train=96,
                      num_target_val=24, num_target_test=6, num_prompts=4,
                      num_night_oracle_train=96)


def _write_png(path: str, img: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, img, [cv2.IMWRITE_PNG_COMPRESSION, 3]):
        raise OSError(f'could not write {path}')


def _generate_split(seed: int, split: _Split, paths: Callable[[int], Tuple[str, str]],
                    ensure_coverage: bool = False) -> List[Tuple[str, np.ndarray]]:
    """Paint, render and write one split; returns (label path, label) of every image."""
    present = np.zeros(NUM_CLASSES + 1, bool)
    written = []
    for i in range(split.count):
        force = _coverage_force(present, i, split.count) if ensure_coverage else []
        force = [IGNORE_INDEX if f == NUM_CLASSES else f for f in force]
        canvas = _paint_forced(seed, split.key, i, force)
        render = render_night if split.night else render_day
        img_path, label_path = paths(i)
        _write_png(img_path, render(canvas, _image_rng(seed, split.key, i, 1)))
        label = canvas.label
        present |= _class_presence(label)
        if split.labelled:
            _write_png(label_path, label)
            written.append((label_path, label))
        if split.label_ids:
            _write_png(label_path.replace('_labelTrainIds.png', '_labelIds.png'),
                       train_ids_to_label_ids(label))
    return written


def class_stats(labels: Sequence[Tuple[str, np.ndarray]]) -> List[Dict]:
    """Per-file pixel counts of the classes present, as the Cityscapes converter writes them."""
    return [sample_stats(label, path, NUM_CLASSES) for path, label in labels]


def make_toy_dataset(out_dir: str, seed: int = 0,
                     num_source_train: int = DEFAULT_COUNTS['num_source_train'],
                     num_source_val: int = DEFAULT_COUNTS['num_source_val'],
                     num_target_train: int = DEFAULT_COUNTS['num_target_train'],
                     num_target_val: int = DEFAULT_COUNTS['num_target_val'],
                     num_target_test: int = DEFAULT_COUNTS['num_target_test'],
                     num_prompts: int = DEFAULT_COUNTS['num_prompts'],
                     num_night_oracle_train: int = DEFAULT_COUNTS['num_night_oracle_train']
                     ) -> Dict[str, int]:
    """Write the toy set under ``out_dir`` and return the number of images per split.

    A previous toy set in ``out_dir`` (recognised by its marker file) is replaced; other folders
    are left alone. Every class and the ignore value appear in each labelled split large enough
    to hold them (source train and val, night val, night oracle train): its last images are made
    to contain whatever chance left out. The night oracle train split (labelled night scenes,
    other scenes than the unlabelled target train) exists only for the night oracle config.
    """
    counts = dict(source_train=num_source_train, source_val=num_source_val,
                  target_train=num_target_train, target_val=num_target_val,
                  target_test=num_target_test, prompt=num_prompts,
                  night_oracle_train=num_night_oracle_train)
    if any(n < 0 for n in counts.values()):
        raise ValueError(f'image counts must not be negative: {counts}')
    marker = osp.join(out_dir, MARKER_FILE)
    if osp.exists(marker):
        os.remove(marker)
        for sub in ('cityscapes', 'dark_zurich', 'prompt', 'night_oracle'):
            shutil.rmtree(osp.join(out_dir, sub), ignore_errors=True)
    city, dz, prompt = (osp.join(out_dir, sub) for sub in ('cityscapes', 'dark_zurich', 'prompt'))
    os.makedirs(city, exist_ok=True)
    train_split = _Split('source_train', False, True, num_source_train, label_ids=True)
    train_labels = _generate_split(seed, train_split, lambda i: _source_paths(city, 'train', i),
                                   ensure_coverage=True)
    _generate_split(seed, _Split('source_val', False, True, num_source_val, True),
                    lambda i: _source_paths(city, 'val', i), ensure_coverage=True)
    if train_labels:  # rare class sampling of the source reads them
        save_class_stats(city, class_stats([(osp.relpath(p, city), lab)
                                            for p, lab in train_labels]))
    for key, subset, labelled in (('target_train', 'train', False), ('target_val', 'val', True),
                                  ('target_test', 'test', False)):
        _generate_split(seed, _Split(key, True, labelled, counts[key]),
                        lambda i, s=subset: _target_paths(dz, s, i), ensure_coverage=labelled)
    oracle = osp.join(out_dir, 'night_oracle')
    oracle_labels = _generate_split(
        seed, _Split('night_oracle_train', True, True, num_night_oracle_train),
        lambda i: _oracle_paths(oracle, i), ensure_coverage=True)
    if oracle_labels:  # rare class sampling of the night oracle reads them
        save_class_stats(oracle, class_stats([(osp.relpath(p, oracle), lab)
                                              for p, lab in oracle_labels]))
    _generate_split(seed, _Split('prompt', True, True, num_prompts),
                    lambda i: _prompt_paths(prompt, i))
    with open(marker, 'w') as f:
        json.dump(dict(seed=seed, version=FORMAT_VERSION, counts=counts), f, indent=2,
                  sort_keys=True)
    return counts


def ensure_toy_dataset(out_dir: str, seed: int = 0, **counts: int) -> Dict[str, int]:
    """Generate the toy set unless ``out_dir`` already holds a complete one; returns its counts.

    A fresh set is written into a temporary sibling folder and moved into place, so that processes
    racing to create it never see a half-written set.
    """
    marker = osp.join(out_dir, MARKER_FILE)
    if osp.exists(marker):
        with open(marker) as f:
            done = json.load(f)
        if done.get('version') == FORMAT_VERSION:
            return done['counts']
        return make_toy_dataset(out_dir, seed, **counts)  # an older toy set: replace it
    if osp.isdir(out_dir):  # an interrupted earlier run: complete it in place
        return make_toy_dataset(out_dir, seed, **counts)
    tmp = f'{out_dir.rstrip(os.sep)}.tmp-{uuid.uuid4().hex[:8]}'
    try:
        result = make_toy_dataset(tmp, seed, **counts)
        try:
            os.rename(tmp, out_dir)
        except OSError:
            if not osp.exists(marker):
                raise
        return result
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
