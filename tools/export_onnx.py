"""Export a model's whole-image inference to ONNX and check it.

    python tools/export_onnx.py CONFIG CHECKPOINT --shape H W --out model.onnx
        [--test-model NAME] [--whole] [--static] [--no-check] [--atol 1e-4]

The graph: the test pipeline's normalisation, then the deployed network's
inference (EncoderDecoder whole image; HRDA context + detail scales with its
detail windows), input ``img`` float32 ``[1, 3, H, W]`` 0..255 (RGB for
configs whose Normalize has ``to_rgb=True``), output ``logits``
``[1, C, H, W]``. EncoderDecoder exports with dynamic height/width (sides
meeting the network's size rule), HRDA at H x W (``--static`` fixes any).
After the export, onnxruntime (optional; ``--no-check`` skips) runs it
against PyTorch on random images (at H x W and, for dynamic graphs, at a
second size); a difference above ``--atol`` is an error. Not exported,
named: ``test_cfg.mode='slide'`` (``--whole`` exports whole-image
inference instead) and ``--test-model fusion``.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402
from mmengine import DictAction  # noqa: E402


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='checkpoint, or "none" for '
                        'random weights')
    parser.add_argument('--shape', type=int, nargs=2, required=True,
                        metavar=('H', 'W'), help='example input size')
    parser.add_argument('--out', required=True, help='the .onnx file')
    parser.add_argument('--test-model', default=None,
                        help='student|teacher|nfnet|nfnet_teacher')
    parser.add_argument('--whole', action='store_true',
                        help='export whole-image inference of a config '
                        'whose test_cfg.mode is slide')
    parser.add_argument('--static', action='store_true',
                        help='fix height and width to --shape')
    parser.add_argument('--no-check', action='store_true',
                        help='skip the onnxruntime comparison')
    parser.add_argument('--atol', type=float, default=1e-4)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if min(args.shape) < 1:
        parser.error(f'--shape {args.shape[0]} {args.shape[1]}: sides must '
                     'be >= 1')
    from mmseg.apis import init_model
    from mmseg.apis.export import check_onnx, export_onnx, second_shape
    from mmseg.utils.cli import ensure_output_dir
    ensure_output_dir(osp.dirname(osp.abspath(args.out)), '--out folder')
    checkpoint = None if args.checkpoint == 'none' else args.checkpoint
    model = init_model(args.config, checkpoint, cfg_options=args.cfg_options,
                       test_model=args.test_model)
    shape = tuple(args.shape)
    result = export_onnx(model, shape, args.out, whole=args.whole,
                         static=args.static)
    size = 'dynamic height/width' if result['dynamic'] \
        else f'fixed {shape[0]}x{shape[1]}'
    order = 'RGB' if result['to_rgb'] else 'BGR'
    print(f'wrote {args.out}: {type(result["network"].network).__name__} '
          f'({getattr(model, "deployed_network", "student")}), {size}; input '
          f'img float32 [1, 3, H, W] {order} 0..255, output logits '
          f'[1, {len(model.dataset_meta["classes"])}, H, W]')
    if args.no_check:
        return result
    shapes = [shape]
    other = second_shape(result['network'].network, shape) \
        if result['dynamic'] else None
    if other:
        shapes.append(other)
    diffs = check_onnx(result['network'], args.out, shapes)
    for (h, w), diff in zip(shapes, diffs):
        print(f'onnxruntime vs PyTorch at {h}x{w}: max |diff| {diff:.2e}')
    if max(diffs) > args.atol:
        raise RuntimeError(f'{args.out}: onnxruntime differs from PyTorch by '
                           f'{max(diffs):.2e} > --atol {args.atol}')
    result['diffs'] = diffs
    return result


if __name__ == '__main__':
    sys.exit(run_cli(main))
