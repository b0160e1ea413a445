"""ACDC: flatten ``rgb_anon/<condition>/<split>/<sequence>/*`` into
``rgb_anon/<split>/`` and ``gt/<condition>/<split>/<sequence>/
*_gt_labelTrainIds.png`` into ``gt/<split>/`` (copies or symlinks).

    python tools/convert_datasets/acdc.py data/acdc [--symlink]

``ACDCDataset`` also reads the shipped layout directly; flattening is only
needed for configs that point at ``rgb_anon/<split>`` (all conditions).
"""
import argparse
import functools
import os
import os.path as osp
import shutil
import sys
from typing import List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import add_nproc, find_files, run_parallel  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

CONDITIONS = ('fog', 'night', 'rain', 'snow')
SPLITS = ('train', 'val', 'test')
KINDS = (('rgb_anon', '_rgb_anon.png'), ('gt', '_gt_labelTrainIds.png'))


def plan(root: str, conditions: Sequence[str],
         splits: Sequence[str]) -> List[Tuple[str, str]]:
    """``(source, destination)`` pairs; equal names of two sources raise."""
    pairs, seen = [], {}
    for folder, suffix in KINDS:
        for split in splits:
            for cond in conditions:
                src_dir = osp.join(root, folder, cond, split)
                if not osp.isdir(src_dir):
                    continue
                for src in find_files(src_dir, suffix):
                    dst = osp.join(root, folder, split, osp.basename(src))
                    if dst in seen:
                        raise SystemExit(f'{src} and {seen[dst]} would both '
                                         f'become {dst}')
                    seen[dst] = src
                    pairs.append((src, dst))
    return pairs


def place(pair: Tuple[str, str], symlink: bool) -> None:
    src, dst = pair
    if osp.lexists(dst):
        os.remove(dst)
    if symlink:
        os.symlink(osp.relpath(src, osp.dirname(dst)), dst)
    else:
        shutil.copyfile(src, dst)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='ACDC folder')
    parser.add_argument('--symlink', action='store_true',
                        help='symlink instead of copying')
    parser.add_argument('--conditions', nargs='+', default=list(CONDITIONS),
                        choices=CONDITIONS)
    parser.add_argument('--splits', nargs='+', default=list(SPLITS),
                        choices=SPLITS)
    add_nproc(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    pairs = plan(args.root, args.conditions, args.splits)
    if not pairs:
        raise SystemExit(f'no ACDC image found under {args.root}/rgb_anon/'
                         '<condition>/<split>/')
    for dst_dir in sorted({osp.dirname(dst) for _, dst in pairs}):
        os.makedirs(dst_dir, exist_ok=True)
    run_parallel(functools.partial(place, symlink=args.symlink), pairs,
                 args.nproc, 'acdc')


if __name__ == '__main__':
    sys.exit(run_cli(main))
