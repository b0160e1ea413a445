"""SCC: correct pseudo-labels per connected component (SeCo stage 2).

    python tools/seco/run_scc.py --img-dir IMG_DIR --label-dir LABEL_DIR
        --out-dir OUT_DIR [--epochs 20] [--early-iter N] [--batch-size 64]
        [--lr 0.01] [--patch-size 64 128] [--width 32] [--depth 3]
        [--filter-mode both_loss] [--ratio 0.5] [--no-relabel]
        [--device cpu] [--cache-file PREFIX] [--stats FILE.npz]

LABEL_DIR holds the PSA output (or, without SAM, the raw confident
pseudo-labels); images are matched by base name below IMG_DIR and resized
to the label size. The corrected labels (255 = dropped) are written to
``OUT_DIR/<name>.png``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from seco_files import LabelFolder, index_images, load_rgb  # noqa: E402

import numpy as np  # noqa: E402

from mmseg.seco.classifier import TrainConfig  # noqa: E402
from mmseg.seco.relabel import FILTER_MODES, write_label  # noqa: E402
from mmseg.seco.scc import (SCCConfig,  # noqa: E402
                            semantic_connectivity_correction)
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--img-dir', required=True)
    parser.add_argument('--label-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    classes = parser.add_mutually_exclusive_group(required=True)
    classes.add_argument('--num-classes', type=int,
                         help='number of classes of the labels')
    classes.add_argument('--config',
                         help='training config whose dataset classes give '
                         'the number of classes')
    parser.add_argument('--epochs', type=int, default=20)
    parser.add_argument('--early-iter', type=int, default=None,
                        help='iteration of the early model used to correct')
    parser.add_argument('--batch-size', type=int, default=64)
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--patch-size', type=int, nargs=2, default=[64, 128])
    parser.add_argument('--width', type=int, default=32)
    parser.add_argument('--depth', type=int, default=3)
    parser.add_argument('--min-area', type=int, default=1)
    parser.add_argument('--filter-mode', default='both_loss',
                        choices=[m for m in FILTER_MODES if m])
    parser.add_argument('--ratio', type=float, default=0.5)
    parser.add_argument('--no-relabel', action='store_true')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cache-file', default=None,
                        help='keep the patches in PREFIX_{img,mask}.npy')
    parser.add_argument('--stats', default=None,
                        help='save per-component loss/pred/score/keep here')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def class_count(args: argparse.Namespace) -> int:
    """``--num-classes``, else the size of ``--config``'s class set."""
    if args.num_classes is not None:
        return args.num_classes
    from mmseg.config import load_config
    from mmseg.engine.class_set_cfg import config_classes
    return len(config_classes(load_config(args.config))[0])


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    num_classes = class_count(args)
    labels = LabelFolder(args.label_dir)
    images = index_images(args.img_dir)

    def load_image(name: str) -> np.ndarray:
        stem = osp.splitext(name)[0]
        if stem not in images:
            raise FileNotFoundError(f'no image named {stem}.* below '
                                    f'{args.img_dir}')
        return load_rgb(images[stem], labels[name].shape)

    cfg = SCCConfig(
        num_classes=num_classes, patch_size=tuple(args.patch_size),
        width=args.width, depth=args.depth, min_area=args.min_area,
        relabel=not args.no_relabel, filter_mode=args.filter_mode,
        ratio=args.ratio, cache_file=args.cache_file,
        train=TrainConfig(epochs=args.epochs, early_iter=args.early_iter,
                          batch_size=args.batch_size, lr=args.lr,
                          seed=args.seed, device=args.device))
    result = semantic_connectivity_correction(
        labels, load_image, cfg, log=print,
        write=lambda name, label: write_label(
            label, osp.join(args.out_dir, name)))
    if args.stats:
        np.savez(args.stats, loss=result.loss, pred=result.pred,
                 score=result.score, keep=result.keep,
                 label=np.array([c.label for c in result.components]))
    print(f'kept {int(result.keep.sum())}/{len(result.keep)} components; '
          f'labels in {args.out_dir}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
