"""Print per-class pixel frequency and presence of every labelled split of a toy set.

Usage: python tools/toy_stats.py [--root data/toy] [--scale 1.0] [--splits day_val night_val]
                                [--shift N]

``--shift N`` also renders N scenes by day and by night and prints each class's appearance
change (see ``mmseg.datasets.toy.stats.night_shift_by_class``). ``--scale`` resizes the labels first (nearest neighbour) to the training resolution: 1.0 for the
256x512 toy configs, 0.5 for the 128-pixel sweeps of ``experiments.py``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402
from mmseg.datasets.toy.stats import (LABELLED_SPLITS, frequency_table,  # noqa: E402
                                       night_shift_by_class)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--root', default='data/toy', help='toy set folder')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='resize factor of the labels (training resolution / 256x512)')
    parser.add_argument('--splits', nargs='*', default=[], choices=sorted(LABELLED_SPLITS),
                        help='splits to show (default: every labelled split found)')
    parser.add_argument('--shift', type=int, default=0, metavar='N',
                        help='also print the day-to-night appearance change per class, '
                        'measured on N generated scenes')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not 0 < args.scale <= 4:
        raise ValueError(f'--scale must be in (0, 4], got {args.scale}')
    table = frequency_table(args.root, args.scale, args.splits)
    print(f'{args.root} at scale {args.scale}: pixel share of the labelled pixels (%) / '
          f'images containing the class (%) / mean pixels per image that has it')
    print(table)
    if args.shift > 0:
        shift = night_shift_by_class(args.shift)
        print(f'\nday-to-night change per class ({args.shift} scenes; |log| of the change of the '
              'class grey level relative to its image mean):')
        for name, value in sorted(shift.items(), key=lambda kv: -kv[1]):
            print(f'  {name:14s} {value:.2f}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
