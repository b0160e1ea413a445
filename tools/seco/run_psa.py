"""PSA: aggregate pseudo-labels into Segment Anything masks (SeCo stage 1).

    python tools/seco/run_psa.py --img-dir IMG_DIR --pseudo-dir PSEUDO_DIR
        --out-dir OUT_DIR --sam-checkpoint sam_vit_h_4b8939.pth
        [--sam-type vit_h] [--device cuda] [--stuff-threshold 0.2]
        [--min-pixels 10] [--unclip-ratio 1.25] [--skip-existing]

Needs the ``segment_anything`` package and a SAM checkpoint. Every
``PSEUDO_DIR/<name>.png`` is paired with the image of the same base name
below IMG_DIR (resized to the label's size) and written to
``OUT_DIR/<name>.png``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from seco_files import LabelFolder, index_images, load_rgb  # noqa: E402

from mmseg.seco.psa import (SamMaskGenerator,  # noqa: E402
                            pixel_semantic_aggregation)
from mmseg.seco.relabel import write_label  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--img-dir', required=True)
    parser.add_argument('--pseudo-dir', required=True)
    parser.add_argument('--out-dir', required=True)
    parser.add_argument('--sam-checkpoint', required=True)
    parser.add_argument('--sam-type', default='vit_h')
    parser.add_argument('--device', default='cuda')
    parser.add_argument('--stuff-threshold', type=float, default=0.2)
    parser.add_argument('--min-pixels', type=int, default=10)
    parser.add_argument('--unclip-ratio', type=float, default=1.25)
    parser.add_argument('--skip-existing', action='store_true')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    labels = LabelFolder(args.pseudo_dir)
    images = index_images(args.img_dir)
    generator = SamMaskGenerator(args.sam_checkpoint, args.sam_type,
                                 args.device)
    for k, name in enumerate(labels):
        out_path = osp.join(args.out_dir, name)
        if args.skip_existing and osp.isfile(out_path):
            continue
        stem = osp.splitext(name)[0]
        if stem not in images:
            raise FileNotFoundError(f'no image named {stem}.* below '
                                    f'{args.img_dir}')
        pseudo = labels[name]
        image = load_rgb(images[stem], pseudo.shape)
        out = pixel_semantic_aggregation(
            image, pseudo, generator, stuff_threshold=args.stuff_threshold,
            min_pixels=args.min_pixels, unclip_ratio=args.unclip_ratio)
        write_label(out, out_path)
        print(f'[{k + 1}/{len(labels)}] {name}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
