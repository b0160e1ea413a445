"""Cityscapes: ``*_gtFine_labelIds.png`` -> ``*_gtFine_labelTrainIds.png``,
RCS stats of the train split and ``{train,val,test}.txt``.

    python tools/convert_datasets/cityscapes.py data/cityscapes --nproc 8
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

from mmseg.datasets.cityscapes_labels import id_to_trainid_lut  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

ID_SUFFIX = '_gtFine_labelIds.png'
TRAIN_ID_SUFFIX = '_gtFine_labelTrainIds.png'
SPLITS = ('train', 'val', 'test')


def convert_file(path: str, gt_dir: str) -> LabelResult:
    """Write the train-id label of ``path``; stats if it is in train."""
    return convert_checked(
        path, read_label_ids, id_to_trainid_lut(),
        path[:-len(ID_SUFFIX)] + TRAIN_ID_SUFFIX, CITYSCAPES_MAX_ID,
        with_stats=osp.relpath(path, gt_dir).split(os.sep)[0] == 'train')


def write_split_lists(gt_dir: str, out_dir: str) -> None:
    """``<split>.txt``: label stems relative to ``gtFine/<split>``."""
    for split in SPLITS:
        split_dir = osp.join(gt_dir, split)
        if not osp.isdir(split_dir):
            continue
        stems = [osp.relpath(p, split_dir)[:-len(ID_SUFFIX)]
                 for p in find_files(split_dir, ID_SUFFIX)]
        with open(osp.join(out_dir, f'{split}.txt'), 'w') as f:
            f.writelines(stem + '\n' for stem in stems)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='Cityscapes folder')
    parser.add_argument('--gt-dir', default='gtFine')
    parser.add_argument('-o', '--out-dir', help='stats/list folder '
                        '(default: root)')
    add_nproc(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    gt_dir = osp.join(args.root, args.gt_dir)
    out_dir = args.out_dir or args.root
    files = find_files(gt_dir, ID_SUFFIX)
    if not files:
        raise SystemExit(f'no *{ID_SUFFIX} found under {gt_dir}')
    results = run_parallel(functools.partial(convert_file, gt_dir=gt_dir),
                           files, args.nproc, 'cityscapes')
    write_split_lists(gt_dir, out_dir)
    finish(results, 'cityscapes', out_dir, 'train')


if __name__ == '__main__':
    sys.exit(run_cli(main))
