"""Draw a day and a night toy image next to their colour-coded labels, as one PNG panel.

Usage: python tools/toy_panel.py [--root data/toy] [--index 0] [--out toy_panel.png]
           [--splits day_val night_val]

Each row is one image of a split: image | label (Cityscapes palette, ignore in black).
"""
import argparse
import os.path as osp
import sys

import cv2
import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402
from mmseg.datasets.cityscapes_labels import PALETTE  # noqa: E402
from mmseg.datasets.toy.stats import LABELLED_SPLITS, split_label_paths  # noqa: E402

_IMAGE_OF_LABEL = (('_gtFine_labelTrainIds.png', '_leftImg8bit.png', 'gtFine', 'leftImg8bit'),
                   ('_gt_labelTrainIds.png', '_rgb_anon.png', '/gt/', '/rgb_anon/'),
                   ('_labelTrainIds.png', '.png', '/gt/', '/img/'))


def image_path_of(label_path: str) -> str:
    """The image file next to a toy label file (Cityscapes, Dark Zurich or prompt layout)."""
    for label_suffix, img_suffix, label_dir, img_dir in _IMAGE_OF_LABEL:
        if label_path.endswith(label_suffix):
            return label_path[:-len(label_suffix)].replace(label_dir, img_dir) + img_suffix
    raise ValueError(f'not a toy label file: {label_path}')


def colourise(label: np.ndarray) -> np.ndarray:
    """Train-id label (H, W) -> BGR uint8 (H, W, 3) in the Cityscapes palette; 255 -> black."""
    table = np.zeros((256, 3), np.uint8)
    table[:len(PALETTE)] = np.asarray(PALETTE, np.uint8)
    return np.ascontiguousarray(table[label][..., ::-1])


def draw_panel(root: str, splits, index: int) -> np.ndarray:
    """One row per split: image | colour label, separated by white bars (BGR uint8)."""
    found = split_label_paths(root)
    rows = []
    for split in splits:
        if split not in found:
            raise FileNotFoundError(f'no {split} split under {root}')
        label_path = found[split][index % len(found[split])]
        img = cv2.imread(image_path_of(label_path), cv2.IMREAD_COLOR)
        label = cv2.imread(label_path, cv2.IMREAD_UNCHANGED)
        bar = np.full((img.shape[0], 6, 3), 255, np.uint8)
        rows.append(np.concatenate([img, bar, colourise(label)], 1))
        rows.append(np.full((6, rows[-1].shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], 0)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default='data/toy', help='toy set folder')
    parser.add_argument('--index', type=int, default=0, help='image index within each split')
    parser.add_argument('--splits', nargs='+', default=['day_val', 'night_val'],
                        choices=sorted(LABELLED_SPLITS))
    parser.add_argument('--out', default='toy_panel.png', help='output PNG')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    panel = draw_panel(args.root, args.splits, args.index)
    if not cv2.imwrite(args.out, panel):
        raise OSError(f'could not write {args.out}')
    print(f'wrote {args.out} ({panel.shape[1]}x{panel.shape[0]})')


if __name__ == '__main__':
    sys.exit(run_cli(main))
