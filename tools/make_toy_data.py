"""Generate the synthetic day-to-night toy set (Cityscapes / Dark Zurich layouts).

Usage: python tools/make_toy_data.py [--out data/toy] [--seed 0] [--force]
"""
import argparse
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.datasets.toy_data import (DEFAULT_COUNTS, MARKER_FILE,  # noqa: E402
                                     ensure_toy_dataset, make_toy_dataset)
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/toy', help='output folder')
    parser.add_argument('--seed', type=int, default=0, help='generation seed')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if the folder already holds a complete set')
    for name, default in DEFAULT_COUNTS.items():
        parser.add_argument('--' + name.replace('_', '-'), type=int, default=default,
                            help=f'default {default}')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    counts = {name: getattr(args, name) for name in DEFAULT_COUNTS}
    existed = osp.exists(osp.join(args.out, MARKER_FILE))
    start = time.perf_counter()
    if args.force:
        result = make_toy_dataset(args.out, args.seed, **counts)
    else:
        result = ensure_toy_dataset(args.out, args.seed, **counts)
    if existed and not args.force:
        print(f'{args.out} already holds a complete toy set (use --force to regenerate): {result}')
    else:
        print(f'wrote {args.out} in {time.perf_counter() - start:.1f}s: {result}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
