"""Evaluate a checkpoint, save visualisations, or write test-server files.

    python tools/test.py CONFIG CHECKPOINT --eval mIoU
    python tools/test.py CONFIG CHECKPOINT --eval mIoU --out results.json \\
        --plot plots
    python tools/test.py CONFIG CHECKPOINT --show-dir preds --opacity 0.5
    python tools/test.py CONFIG CHECKPOINT --test-set --format-only \\
        --eval-option imgfile_prefix=labelTrainIds to_label_id=False

A UDA checkpoint is evaluated with the network the config deploys
(``uda.test_model``, default the student) or the one ``--test-model`` names:

    python tools/test.py CONFIG CHECKPOINT --eval mIoU --test-model teacher

For the student only ``cfg.model`` is built and the checkpoint's other
networks are ignored; any other choice builds the UDA wrapper and loads the
whole checkpoint.
"""
import argparse
import os.path as osp
import sys
from typing import Any, Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmseg.engine.config_loader import (add_cfg_options_argument,  # noqa: E402
                                        load_config)

HRDA_OUTPUTS = {'LR': 0.0, 'HR': 1.0}
TEST_MODELS = ('student', 'teacher', 'nfnet', 'nfnet_teacher', 'fusion')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--eval', nargs='+', help='metrics, e.g. mIoU')
    parser.add_argument(
        '--test-set',
        action='store_true',
        help='use the dataset config data.test_set (the real test split)')
    parser.add_argument(
        '--format-only',
        action='store_true',
        help='only write prediction PNGs (for the evaluation servers)')
    parser.add_argument(
        '--eval-option',
        '--eval-options',
        nargs='+',
        action=DictAction,
        default={},
        help='imgfile_prefix=DIR to_label_id=True|False, ...')
    parser.add_argument(
        '--out', help='with --eval: write all metrics (summary and per '
        'class, as printed) to this .json file')
    parser.add_argument(
        '--plot', help='with --eval: write iou_per_class.png and '
        'confusion_matrix.png (row-normalised) into this folder')
    parser.add_argument('--show-dir', help='write palette overlays here')
    parser.add_argument('--opacity', type=float, default=0.5)
    parser.add_argument(
        '--inference-mode',
        choices=['same', 'whole', 'slide'],
        default='same',
        help='override test_cfg.mode (slide uses crop = training crop)')
    parser.add_argument(
        '--hrda-out',
        choices=['', 'LR', 'HR'],
        default='',
        help='HRDA: evaluate only the LR or HR branch')
    parser.add_argument(
        '--test-model',
        choices=TEST_MODELS,
        default=None,
        help='network of a UDA checkpoint to evaluate (default: the '
        "config's uda.test_model, else the student); nfnet, nfnet_teacher "
        'and fusion are EGLP\'s')
    parser.add_argument('--device', default=None, help='cpu or cuda')
    parser.add_argument('--trust-checkpoint', action='store_true')
    add_cfg_options_argument(parser)
    args = parser.parse_args(argv)
    if args.eval and args.format_only:
        parser.error('--eval and --format-only are exclusive')
    if (args.out or args.plot) and not args.eval:
        parser.error('--out and --plot need --eval')
    if args.out and not args.out.endswith('.json'):
        parser.error(f'--out {args.out}: the metrics are written as JSON; '
                     'give a path ending in .json')
    if not args.eval and not args.format_only and not args.show_dir:
        parser.error('give at least one of --eval, --format-only, --show-dir')
    return args


def test_dataset_cfg(cfg, test_set: bool) -> Dict:
    if test_set:
        from mmseg.datasets.test_split import select_test_split
        return select_test_split(cfg)
    return dict(cfg.data.test)


def model_cfg(cfg, args: argparse.Namespace) -> Dict:
    model = dict(cfg.model)
    model['pretrained'] = None  # all weights come from the checkpoint
    test_cfg = dict(model.get('test_cfg') or {})
    if args.inference_mode == 'whole':
        test_cfg['mode'] = 'whole'
    elif args.inference_mode == 'slide':
        crop = tuple(cfg.get('crop_size', (512, 512)))
        test_cfg.update(mode='slide', crop_size=crop,
                        stride=tuple(c // 2 for c in crop))
    model['test_cfg'] = test_cfg
    if args.hrda_out:
        head = dict(model['decode_head'])
        head['fixed_attention'] = HRDA_OUTPUTS[args.hrda_out]
        model['decode_head'] = head
    return model


def deployed_network(cfg, args: argparse.Namespace) -> str:
    """``--test-model``, else the config's ``uda.test_model``, else student."""
    if args.test_model:
        if args.test_model != 'student' and not cfg.get('uda'):
            raise SystemExit(f'--test-model {args.test_model}: '
                             f'{cfg.filename} has no uda section')
        return args.test_model
    return (cfg.get('uda') or {}).get('test_model', 'student')


def _without_pretrained(cfg: Any) -> Any:
    """``cfg`` with every nested ``pretrained`` set to None (the weights come
    from the checkpoint)."""
    if isinstance(cfg, dict):
        return {k: None if k == 'pretrained' else _without_pretrained(v)
                for k, v in cfg.items()}
    if isinstance(cfg, (list, tuple)):
        return type(cfg)(_without_pretrained(v) for v in cfg)
    return cfg


def uda_model_cfg(cfg, args: argparse.Namespace, test_model: str) -> Dict:
    """The UDA wrapper that deploys ``test_model``."""
    from mmseg.engine.build import model_cfg_from
    uda = _without_pretrained(model_cfg_from(cfg))
    uda['model'] = model_cfg(cfg, args)
    uda['test_model'] = test_model
    return uda


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    import torch
    from torch.utils.data import DataLoader

    from mmseg.datasets.collate import seg_collate
    from mmseg.evaluation.format_results import write_result_png
    from mmseg.evaluation.iou_metric import IoUMetric
    from mmseg.evaluation.visualize import write_overlay
    from mmseg.models.weights import (load_segmentor_checkpoint,
                                      load_uda_checkpoint)
    from mmseg.registry import DATASETS, MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()

    dataset = DATASETS.build(test_dataset_cfg(cfg, args.test_set))
    loader = DataLoader(
        dataset, batch_size=1, shuffle=False, collate_fn=seg_collate,
        num_workers=int(cfg.data.get('workers_per_gpu', 0)))
    test_model = deployed_network(cfg, args)
    if test_model == 'student':
        model = MODELS.build(model_cfg(cfg, args))
        load_segmentor_checkpoint(model, args.checkpoint,
                                  trusted=args.trust_checkpoint)
    else:
        model = MODELS.build(uda_model_cfg(cfg, args, test_model))
        load_uda_checkpoint(model, args.checkpoint,
                            trusted=args.trust_checkpoint)
    print(f'evaluating the {test_model}')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model.to(device).eval()

    metric = IoUMetric(with_confusion=bool(args.plot)) if args.eval else None
    if metric is not None:
        metric.dataset_meta = getattr(dataset, 'metainfo', None)
    prefix = args.eval_option.get('imgfile_prefix', 'labelTrainIds')
    to_label_id = bool(args.eval_option.get('to_label_id', True))
    with torch.no_grad():
        for index, batch in enumerate(loader):
            results = model.val_step(batch)
            if metric is not None:
                metric.process(batch, results)
            for result in results:
                filename = result['img_metas']['filename']
                if args.format_only:
                    write_result_png(result['pred_sem_seg'], filename, prefix,
                                     to_label_id)
                if args.show_dir:
                    out = osp.join(args.show_dir,
                                   result['img_metas']['ori_filename'])
                    write_overlay(filename, result['pred_sem_seg'],
                                  osp.splitext(out)[0] + '.png',
                                  opacity=args.opacity)
            print(f'\r[{index + 1}/{len(dataset)}]', end='', flush=True)
    print()
    if args.format_only:
        print(f'wrote {len(dataset)} prediction PNGs to {prefix}')
    if metric is None:
        return {}
    metrics = metric.evaluate(len(dataset))
    if args.out or args.plot:
        from mmseg.evaluation.report import write_evaluation_outputs
        context = dict(config=args.config, checkpoint=args.checkpoint,
                       network=test_model,
                       data='data.test_set' if args.test_set else 'data.test')
        for path in write_evaluation_outputs(
                metrics, metric.class_names, metric.confusion, args.out,
                args.plot, context):
            print(f'wrote {path}')
    return metrics


if __name__ == '__main__':
    main()
