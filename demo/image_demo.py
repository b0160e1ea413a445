"""Segment your own images with a trained model: one overlay per image.

    python demo/image_demo.py CONFIG CHECKPOINT INPUT [INPUT ...] --out-dir DIR

INPUT is an image file, a folder (searched recursively for .png/.jpg/...
files) or a quoted glob pattern ('night/**/*.jpg'). Each image gives
DIR/<its path under the input>.png: the image blended with the class
colours (--opacity) above a legend of the classes present; --save-label adds
<name>_trainIds.png (one class id per pixel, 255-free). Images of any size
are segmented at their own size, through the config's test pipeline and
test_cfg (whole, slide or HRDA multi-resolution), with the network the run
deploys (uda.test_model, or --test-model).

An image that cannot be decoded is named and skipped; the others are
written, and the exit status is 1. Two inputs that would write one file are
refused before anything is written, and so is an output folder inside an
input folder (--allow-in-place to allow it).
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.config import add_cfg_options_argument  # noqa: E402
from mmseg.utils.cli import ensure_output_dir, run_cli  # noqa: E402

TEST_MODELS = ('student', 'teacher', 'nfnet', 'nfnet_teacher', 'fusion')
LABEL_SUFFIX = '_trainIds.png'


class SkippedImagesError(RuntimeError):
    """Some inputs could not be decoded (the others were written)."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file (e.g. a work dir\'s dump)')
    parser.add_argument('checkpoint', help='training or published checkpoint')
    parser.add_argument('inputs', nargs='+', metavar='INPUT',
                        help='image file, folder (recursive) or glob')
    parser.add_argument('--out-dir', required=True,
                        help='folder for the overlays (created)')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='weight of the class colours (0..1)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda, cuda:1 ... (default: cuda if any)')
    parser.add_argument('--test-model', choices=TEST_MODELS, default=None,
                        help="network of a UDA checkpoint (default: the "
                        "config's uda.test_model, else the student)")
    parser.add_argument('--save-label', action='store_true',
                        help=f'also write <name>{LABEL_SUFFIX}: the class id '
                        'of each pixel')
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast (CUDA, or CPUs with bf16)')
    parser.add_argument('--allow-in-place', action='store_true',
                        help='allow --out-dir inside an input folder')
    parser.add_argument('--trust-checkpoint', action='store_true')
    add_cfg_options_argument(parser)
    args = parser.parse_args(argv)
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity {args.opacity}: give a value in [0, 1]')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmseg.apis.input_files import (check_out_dir, collect_images,
                                        plan_outputs)
    images = collect_images(args.inputs)
    check_out_dir(args.out_dir, images, args.allow_in_place)
    suffixes = ['.png'] + ([LABEL_SUFFIX] if args.save_label else [])
    plan = plan_outputs(images, args.out_dir, suffixes)
    ensure_output_dir(args.out_dir, '--out-dir')

    import torch

    from mmseg.apis import inference_model, init_model
    from mmseg.datasets.transforms.loading import CorruptFileError, read_image
    from mmseg.evaluation.format_results import save_result_png
    from mmseg.evaluation.visualize import write_show_image
    from mmseg.utils.progress import RateProgress
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = init_model(args.config, args.checkpoint, device,
                       cfg_options=args.cfg_options,
                       test_model=args.test_model,
                       trust_checkpoint=args.trust_checkpoint)
    meta = model.dataset_meta
    todo = list(dict.fromkeys(image.path for image in images))
    print(f'segmenting {len(todo)} images with the '
          f'{model.deployed_network} of {args.checkpoint} on {device}')
    progress = RateProgress(len(todo), 'images')
    skipped, written = [], 0
    for path in todo:
        try:
            img = read_image(path)
        except (CorruptFileError, FileNotFoundError) as err:
            skipped.append(path)
            progress.message(f'skipped: {err}')
            progress.update()
            continue
        pred = inference_model(model, img, amp=args.amp).pred_sem_seg.cpu()
        outs = plan[path]
        write_show_image(img, pred, outs[0], classes=meta['classes'],
                         palette=meta['palette'], opacity=args.opacity,
                         show_input=False)
        if args.save_label:
            save_result_png(pred, outs[1], to_label_id=False, what=path,
                            palette=meta['palette'])
        written += len(outs)
        progress.update()
    progress.close()
    done = len(todo) - len(skipped)
    kinds = f'{done} overlays' + (f' and {done} label maps *{LABEL_SUFFIX}'
                                  if args.save_label else '')
    print(f'wrote {written} files ({kinds}) to {args.out_dir} '
          f'({progress.rate:.2f} images/s)')
    if skipped:
        shown = ', '.join(skipped[:5]) + (
            f' (+{len(skipped) - 5} more)' if len(skipped) > 5 else '')
        raise SkippedImagesError(f'{len(skipped)} of {len(todo)} images '
                                 f'could not be decoded and were skipped: '
                                 f'{shown}')
    return 0


if __name__ == '__main__':
    sys.exit(run_cli(main))
