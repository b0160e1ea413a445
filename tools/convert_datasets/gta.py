"""GTA5: ``labels/*.png`` (label ids) -> ``*_labelTrainIds.png`` + RCS
stats over all files.

    python tools/convert_datasets/gta.py data/gta --nproc 8
"""
import argparse
import functools
import os.path as osp
import re
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import (add_nproc, find_files, run_parallel,  # noqa: E402
                     sample_stats, save_class_stats, write_train_ids)
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from mmseg.datasets.cityscapes_labels import id_to_trainid_lut  # noqa: E402

TRAIN_ID_SUFFIX = '_labelTrainIds.png'
# Raw label files end with a digit (00001.png); converted ones do not.
RAW_LABEL = re.compile(r'\d\.png$')


def convert_file(path: str) -> dict:
    label = np.array(Image.open(path))
    out_file = path[:-len('.png')] + TRAIN_ID_SUFFIX
    train_ids = write_train_ids(label, id_to_trainid_lut(), out_file)
    return sample_stats(train_ids, out_file)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='GTA folder')
    parser.add_argument('--gt-dir', default='labels')
    parser.add_argument('-o', '--out-dir', help='stats folder (default: root)')
    add_nproc(parser)
    args = parser.parse_args(argv)
    gt_dir = osp.join(args.root, args.gt_dir)
    files = [p for p in find_files(gt_dir, '.png') if RAW_LABEL.search(p)]
    if not files:
        raise SystemExit(f'no label PNG found under {gt_dir}')
    stats = run_parallel(functools.partial(convert_file), files, args.nproc,
                         'gta')
    save_class_stats(args.out_dir or args.root, stats)


if __name__ == '__main__':
    from mmseg.utils.cli import run_cli
    sys.exit(run_cli(main))
