"""GTA5: ``labels/*.png`` (label ids) -> ``*_labelTrainIds.png`` + RCS
stats over all files.

    python tools/convert_datasets/gta.py data/gta --nproc 8
"""
import argparse
import os.path as osp
import re
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import add_nproc, find_files, run_parallel  # noqa: E402
from _labels import (CITYSCAPES_MAX_ID, LabelResult,  # noqa: E402
                     convert_checked, finish, read_label_ids)

from mmseg.datasets.cityscapes_labels import id_to_trainid_lut  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

TRAIN_ID_SUFFIX = '_labelTrainIds.png'
# Raw label files end with a digit (00001.png); converted ones do not.
RAW_LABEL = re.compile(r'\d\.png$')


def convert_file(path: str) -> LabelResult:
    return convert_checked(path, read_label_ids, id_to_trainid_lut(),
                           path[:-len('.png')] + TRAIN_ID_SUFFIX,
                           CITYSCAPES_MAX_ID, with_stats=True)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='GTA folder')
    parser.add_argument('--gt-dir', default='labels')
    parser.add_argument('-o', '--out-dir', help='stats folder (default: root)')
    add_nproc(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    gt_dir = osp.join(args.root, args.gt_dir)
    files = [p for p in find_files(gt_dir, '.png') if RAW_LABEL.search(p)]
    if not files:
        raise SystemExit(f'no label PNG found under {gt_dir}')
    results = run_parallel(convert_file, files, args.nproc, 'gta')
    finish(results, 'gta', args.out_dir or args.root)


if __name__ == '__main__':
    sys.exit(run_cli(main))
