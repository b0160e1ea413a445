"""NightCity / NightCity+: ``*_labelIds.png`` (Cityscapes label ids) ->
``*_labelTrainIds.png`` beside them, + RCS stats of the train split.

    python tools/convert_datasets/nightcity.py data/nightcity --nproc 8
    python tools/convert_datasets/nightcity.py data/nightcity \
        --gt-dir gt_plus --plus        # NightCity+ val labels

NightCity+ marks unlabelled pixels with 255; ``--plus`` maps them to label
id 0 ('unlabeled') before the conversion, as its authors do.
"""
import argparse
import functools
import os
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import add_nproc, find_files, run_parallel  # noqa: E402
from _labels import (CITYSCAPES_MAX_ID, LabelResult,  # noqa: E402
                     convert_checked, finish, read_label_ids)
import numpy as np  # noqa: E402

from mmseg.datasets.cityscapes_labels import id_to_trainid_lut  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

ID_SUFFIX = '_labelIds.png'
TRAIN_ID_SUFFIX = '_labelTrainIds.png'


PLUS_HINT = {255: '; NightCity+ labels mark unlabelled pixels 255: pass '
                  '--plus'}


def unlabelled_to_zero(label: np.ndarray) -> np.ndarray:
    """NightCity+: 255 (unlabelled) -> label id 0 ('unlabeled')."""
    return np.where(label == 255, 0, label)


def convert_file(path: str, gt_dir: str, plus: bool) -> LabelResult:
    return convert_checked(
        path, read_label_ids, id_to_trainid_lut(),
        path[:-len(ID_SUFFIX)] + TRAIN_ID_SUFFIX, CITYSCAPES_MAX_ID,
        with_stats=osp.relpath(path, gt_dir).split(os.sep)[0] == 'train',
        hints=None if plus else PLUS_HINT,
        prepare=unlabelled_to_zero if plus else None)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='NightCity folder')
    parser.add_argument('--gt-dir', default='gt')
    parser.add_argument('--plus', action='store_true',
                        help='NightCity+ labels: map 255 to label id 0 first')
    parser.add_argument('-o', '--out-dir', help='stats folder (default: root)')
    add_nproc(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    gt_dir = osp.join(args.root, args.gt_dir)
    files = find_files(gt_dir, ID_SUFFIX)
    if not files:
        raise SystemExit(f'no *{ID_SUFFIX} found under {gt_dir}')
    convert = functools.partial(convert_file, gt_dir=gt_dir, plus=args.plus)
    results = run_parallel(convert, files, args.nproc, 'nightcity')
    finish(results, 'nightcity', args.out_dir or args.root, 'train')


if __name__ == '__main__':
    sys.exit(run_cli(main))
