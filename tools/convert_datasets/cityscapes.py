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
from _common import (add_nproc, find_files, run_parallel,  # noqa: E402
                     sample_stats, save_class_stats, write_train_ids)
from PIL import Image  # noqa: E402
import numpy as np  # noqa: E402

from mmseg.datasets.cityscapes_labels import id_to_trainid_lut  # noqa: E402

ID_SUFFIX = '_gtFine_labelIds.png'
TRAIN_ID_SUFFIX = '_gtFine_labelTrainIds.png'
SPLITS = ('train', 'val', 'test')


def convert_file(path: str, gt_dir: str) -> Optional[dict]:
    """Write the train-id label of ``path``; stats if it is in train."""
    label = np.array(Image.open(path))
    out_file = path[:-len(ID_SUFFIX)] + TRAIN_ID_SUFFIX
    train_ids = write_train_ids(label, id_to_trainid_lut(), out_file)
    if osp.relpath(path, gt_dir).split(os.sep)[0] != 'train':
        return None
    return sample_stats(train_ids, out_file)


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
    args = parser.parse_args(argv)
    gt_dir = osp.join(args.root, args.gt_dir)
    out_dir = args.out_dir or args.root
    files = find_files(gt_dir, ID_SUFFIX)
    if not files:
        raise SystemExit(f'no *{ID_SUFFIX} found under {gt_dir}')
    stats = run_parallel(functools.partial(convert_file, gt_dir=gt_dir),
                         files, args.nproc, 'cityscapes')
    save_class_stats(out_dir, [s for s in stats if s is not None])
    write_split_lists(gt_dir, out_dir)


if __name__ == '__main__':
    from mmseg.utils.cli import run_cli
    sys.exit(run_cli(main))
