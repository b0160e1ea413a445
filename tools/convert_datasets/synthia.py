"""SYNTHIA-RAND-CITYSCAPES: ``GT/LABELS/*.png`` (16-bit, class id in the
last cv2 channel) -> ``*_labelTrainIds.png`` + RCS stats over all files.

    python tools/convert_datasets/synthia.py data/synthia --nproc 8
"""
import argparse
import os.path as osp
import re
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import add_nproc, find_files, run_parallel  # noqa: E402
from _labels import (LabelFileError, LabelResult,  # noqa: E402
                     check_single_channel, convert_checked, finish)
import cv2  # noqa: E402
import numpy as np  # noqa: E402

from mmseg.datasets.cityscapes_labels import id_to_trainid_lut  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

TRAIN_ID_SUFFIX = '_labelTrainIds.png'
RAW_LABEL = re.compile(r'\d\.png$')
# SYNTHIA class ids: 0 (void) .. 22 (lanemarking).
SYNTHIA_MAX_ID = 22
SYNTHIA_ID_TO_TRAINID = {
    3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 16: 9, 1: 10,
    10: 11, 17: 12, 8: 13, 18: 14, 19: 15, 20: 16, 12: 17, 11: 18}


def read_synthia_label(path: str) -> np.ndarray:
    """Class ids: the last cv2 channel (R) of the 16-bit label PNG.

    Raises:
        LabelFileError: undecodable or not an integer image.
    """
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise LabelFileError(f'{path}: cannot decode (corrupt, truncated or '
                             'not an image)')
    return check_single_channel(label[:, :, -1] if label.ndim == 3
                                else label, path)


def convert_file(path: str) -> LabelResult:
    return convert_checked(path, read_synthia_label,
                           id_to_trainid_lut(SYNTHIA_ID_TO_TRAINID),
                           path[:-len('.png')] + TRAIN_ID_SUFFIX,
                           SYNTHIA_MAX_ID, with_stats=True)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='SYNTHIA folder')
    parser.add_argument('--gt-dir', default='GT/LABELS')
    parser.add_argument('-o', '--out-dir', help='stats folder (default: root)')
    add_nproc(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    gt_dir = osp.join(args.root, args.gt_dir)
    files = [p for p in find_files(gt_dir, '.png') if RAW_LABEL.search(p)]
    if not files:
        raise SystemExit(f'no label PNG found under {gt_dir}')
    results = run_parallel(convert_file, files, args.nproc, 'synthia')
    finish(results, 'synthia', args.out_dir or args.root)


if __name__ == '__main__':
    sys.exit(run_cli(main))
