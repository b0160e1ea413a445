"""Create the toy stand-in for ImageNet weights: pretrained/toy_mit_b0.pth.

Trains configs/toy/toy_pretrain_mitb0.py (MiT-B0 on a separate generated day
set; a few minutes on a CPU) and keeps the backbone. Toy configs that name
``toy_pretrained`` do this on first use; this tool does it up front.

Usage: python tools/make_toy_pretrained.py [--config C] [--out F] [--force]
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.engine.toy_assets import ensure_toy_pretrained  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/toy/toy_pretrain_mitb0.py')
    parser.add_argument('--out', default='pretrained/toy_mit_b0.pth')
    parser.add_argument('--work-dir', default=None,
                        help='where the pretraining run writes its log')
    parser.add_argument('--force', action='store_true',
                        help='train again even if the file exists')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv=None) -> str:
    args = parse_args(argv)
    if not osp.isfile(args.config):  # refused even when --out exists
        raise FileNotFoundError(f'config file not found: {args.config}')
    if args.force and osp.isfile(args.out):
        os.remove(args.out)
    path = ensure_toy_pretrained(args.out, args.config, args.work_dir)
    print(f'toy pretrained backbone: {path}')
    return path


if __name__ == '__main__':
    sys.exit(run_cli(main))
