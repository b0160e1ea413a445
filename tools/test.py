"""Evaluate a checkpoint, save visualisations, or write test-server files.

    python tools/test.py CONFIG CHECKPOINT --eval mIoU
    python tools/test.py WORK_DIR --eval mIoU   # its config dump, last checkpoint
    python tools/test.py CONFIG CHECKPOINT --eval mIoU --out results.json \\
        --plot plots
    python tools/test.py CONFIG CHECKPOINT --show-dir preds --opacity 0.5
    python tools/test.py CONFIG CHECKPOINT --test-set --format-only \\
        --eval-option imgfile_prefix=labelTrainIds to_label_id=False
    python tools/test.py CONFIG CHECKPOINT --test-set --format-only \\
        --eval-option imgfile_prefix=preds pack=test_submission.zip

On several processes (each evaluates its share; the metric gathers all):

    bash tools/dist_test.sh CONFIG CHECKPOINT NGPUS --eval mIoU

A UDA checkpoint is evaluated with the network the config deploys
(``uda.test_model``, default the student) or the one ``--test-model`` names:

    python tools/test.py CONFIG CHECKPOINT --eval mIoU --test-model teacher

For the student only ``cfg.model`` is built and the checkpoint's other
networks are ignored; any other choice builds the UDA wrapper and loads the
whole checkpoint.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmengine.config import DictAction  # noqa: E402

from mmseg.config import (add_cfg_options_argument,  # noqa: E402
                          check_eval_metrics, load_config)
from mmseg.utils.cli import (add_debug_argument,  # noqa: E402
                             ensure_output_dir, run_cli)
from mmseg.utils.cpu_threads import apply_cpu_thread_defaults  # noqa: E402

HRDA_OUTPUTS = {'LR': 0.0, 'HR': 1.0}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file, or a training work dir')
    parser.add_argument(
        'checkpoint',
        nargs='?',
        help='checkpoint (default with a work dir: its last checkpoint)')
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
        help='imgfile_prefix=DIR (default: labelTrainIds in the work dir) '
        'to_label_id=True|False keep_subdirs=True|False (PNGs under the '
        'images\' sub-folders) confidence=True (16-bit max-softmax maps in '
        'DIR/confidence) pack=FILE.zip (then pack the server\'s zip, as '
        'tools/pack_submission.py)')
    parser.add_argument(
        '--out', help='with --eval: write all metrics (summary and per '
        'class, as printed) to this .json file')
    parser.add_argument(
        '--plot', help='with --eval: write iou_per_class.png and '
        'confusion_matrix.png (row-normalised) into this folder')
    parser.add_argument(
        '--show-dir',
        help='write figures here: image | ground truth | prediction (image '
        '| prediction without labels) with a class legend; all at the size '
        'of the first image, so they can be joined into a video')
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
        default=None,
        help='network of a UDA checkpoint to evaluate (default: the '
        "config's uda.test_model, else the student): one of the UDA "
        "class's TEST_MODELS (DACS: student, teacher; EGLP adds nfnet, "
        'nfnet_teacher, fusion)')
    parser.add_argument('--device', default=None, help='cpu or cuda')
    parser.add_argument('--trust-checkpoint', action='store_true')
    parser.add_argument(
        '--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
        help='evaluate on several processes (torchrun / srun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if not osp.exists(args.config):  # a typo: named, exit 1 (no usage)
        raise FileNotFoundError(
            f'config file or work dir not found: {args.config}')
    if args.eval and args.format_only:
        parser.error('--eval and --format-only are exclusive')
    if (args.out or args.plot) and not args.eval:
        parser.error('--out and --plot need --eval')
    if args.out and not args.out.endswith('.json'):
        parser.error(f'--out {args.out}: the metrics are written as JSON; '
                     'give a path ending in .json')
    if not args.eval and not args.format_only and not args.show_dir:
        parser.error('give at least one of --eval, --format-only, --show-dir')
    from mmseg.engine.run_dir import resolve_run
    args.config, args.checkpoint = resolve_run(args.config, args.checkpoint)
    return args


def test_dataset_cfg(cfg, test_set: bool) -> Dict:
    if test_set:
        from mmseg.datasets.test_split import select_test_split
        return select_test_split(cfg)
    return dict(cfg.data.test)


def apply_test_overrides(cfg, args: argparse.Namespace) -> None:
    """``--inference-mode`` and ``--hrda-out`` written into ``cfg.model``,
    after checking the heads' ``num_classes`` against the dataset's classes
    (``ConfigError`` naming both)."""
    from mmseg.engine.class_set_cfg import check_head_classes, config_classes
    check_head_classes(dict(cfg.model), *config_classes(cfg))
    test_cfg = dict(cfg.model.get('test_cfg') or {})
    if args.inference_mode == 'whole':
        test_cfg['mode'] = 'whole'
    elif args.inference_mode == 'slide':
        crop = tuple(cfg.get('crop_size', (512, 512)))
        test_cfg.update(mode='slide', crop_size=crop,
                        stride=tuple(c // 2 for c in crop))
    cfg.model['test_cfg'] = test_cfg
    if args.hrda_out:
        cfg.model.decode_head['fixed_attention'] = HRDA_OUTPUTS[args.hrda_out]


def check_outputs(args: argparse.Namespace) -> None:
    """Create the output folders first: an unwritable one is named before
    any inference runs (``OutputDirError``)."""
    if args.show_dir:
        ensure_output_dir(args.show_dir, '--show-dir')
    if args.format_only and 'imgfile_prefix' in args.eval_option:
        ensure_output_dir(args.eval_option['imgfile_prefix'],
                          '--eval-option imgfile_prefix')


def planned_outputs(dataset, args: argparse.Namespace,
                    prefix: str) -> Tuple[Dict[str, str], Dict[str, str]]:
    """Prediction PNG and overlay path of every image, checked for
    collisions before anything is written."""
    from mmseg.evaluation.output_paths import (dataset_image_paths,
                                               plan_outputs)
    images = dataset_image_paths(dataset)
    pngs = plan_outputs(
        images, prefix, bool(args.eval_option.get('keep_subdirs', False)),
        flag='--eval-option keep_subdirs=True') if args.format_only else {}
    overlays = plan_outputs(images, args.show_dir,
                            keep_subdirs=True) if args.show_dir else {}
    return pngs, overlays


def report_unlisted_images(dataset, shown: int = 5) -> None:
    """Name the image files of the data folder that the data set leaves
    out (another suffix than its ``img_suffix``), so none is dropped
    silently."""
    unlisted = getattr(dataset, 'unlisted_images', lambda: [])()
    if unlisted:
        more = len(unlisted) - shown
        print(f'skipped {len(unlisted)} image file(s) under '
              f'{dataset.img_dir} not ending with img_suffix '
              f'{dataset.img_suffix!r}: {", ".join(unlisted[:shown])}'
              + (f' (+{more} more)' if more > 0 else ''))


def figure_size(dataset) -> Tuple[int, int]:
    """``(width, height)`` of the data set's first image: every
    ``--show-dir`` figure of the run is drawn at this size."""
    from mmseg.datasets.transforms.loading import read_image
    height, width = read_image(dataset.img_path(0)).shape[:2]
    return width, height


def show_dir_summary(drawn: Dict[str, int], size: Tuple[int, int],
                     show_dir: str) -> str:
    """What ``--show-dir`` drew: how many figures of which panels, at
    which size."""
    kinds = []
    if drawn['with labels']:
        kinds.append(f"{drawn['with labels']} as image | ground truth | "
                     'prediction')
    if drawn['without labels']:
        kinds.append(f"{drawn['without labels']} as image | prediction "
                     '(no labels)')
    total = drawn['with labels'] + drawn['without labels']
    text = (f'wrote {total} figures to {show_dir}: {", ".join(kinds)}; '
            f'images drawn at {size[0]}x{size[1]} px')
    if drawn['resized']:
        text += f" ({drawn['resized']} resized to it)"
    return text


def as_metric_sample(result, batch: Dict, index: int) -> Dict:
    """A :class:`SegResult` of ``batch[index]`` as the dict ``IoUMetric``
    and the writers read: ``pred_sem_seg``, ``img_metas``,
    ``seg_confidence`` (the max softmax probability; not for the fusion)
    and, when the batch carries labels, ``gt_sem_seg`` ``[H, W]``."""
    sample = {'pred_sem_seg': result.pred_sem_seg.cpu(),
              'img_metas': batch['img_metas'][index]}
    if result.seg_confidence is not None:
        sample['seg_confidence'] = result.seg_confidence.cpu()
    labels = batch.get('gt_semantic_seg')
    if labels is not None:
        sample['gt_sem_seg'] = labels[index].reshape(
            labels[index].shape[-2:]).long()
    return sample


def check_label_id_output(args: argparse.Namespace, to_label_id: bool,
                          classes) -> None:
    """``--format-only`` with ``to_label_id`` (Cityscapes label ids) needs
    the 19 Cityscapes classes; other class sets write train ids."""
    from mmseg.datasets.cityscapes_labels import CLASSES
    if args.format_only and to_label_id and tuple(classes) != CLASSES:
        raise ValueError(
            f'--format-only writes Cityscapes label ids by default, but the '
            f'test dataset has {len(classes)} other classes; add '
            '--eval-option to_label_id=False (train-id PNGs)')


def save_confidence(result: Dict, png: str, prefix: str) -> None:
    """Write ``result['seg_confidence']`` as a 16-bit PNG at ``png``'s
    place below ``<prefix>/confidence``."""
    from mmseg.evaluation.submission import (SubmissionError,
                                             save_confidence_png)
    if result.get('seg_confidence') is None:
        raise SubmissionError('this network gives no per-pixel confidence '
                              '(e.g. test_model fusion); leave out '
                              'confidence=True')
    save_confidence_png(result['seg_confidence'], osp.join(
        prefix, 'confidence', osp.relpath(png, prefix)))


def distributed_sampler(cfg, args: argparse.Namespace, dataset):
    """With ``--launcher``: start the process group and return a sampler
    giving each rank its share of ``dataset`` (else ``None``)."""
    if args.launcher == 'none':
        return None
    from mmengine.dataset import DefaultSampler

    from mmseg.engine.distributed import init_distributed
    init_distributed(args.launcher, cfg.get('dist_params'))
    return DefaultSampler(dataset, shuffle=False)


def main(argv: Optional[List[str]] = None) -> Dict:
    # before torch loads OpenMP; the run adapts its threads to contention
    apply_cpu_thread_defaults(passive_when_loaded=False)
    args = parse_args(argv)
    from mmseg.engine.distributed import check_launcher_environment
    check_launcher_environment(args.launcher, os.environ)  # before any work
    check_eval_metrics(args.eval or [], '--eval')
    cfg = load_config(args.config, args.cfg_options)
    from mmseg.engine.build import apply_host_allocator
    apply_host_allocator(cfg)  # refuses a bad value before any output
    from mmseg.engine.cpu_threads_cfg import (cpu_threads_from,
                                              thread_governor_for)
    cpu_threads_from(cfg)  # refuses a bad cpu_threads before any output
    dataset_cfg = test_dataset_cfg(cfg, args.test_set)
    from mmseg.evaluation.submission.from_test import submission_request
    submission = submission_request(args.eval_option, dataset_cfg,
                                    args.format_only)
    check_outputs(args)
    from mmseg.apis import deployed_network, inference_batch, init_model
    test_model = deployed_network(cfg, args.test_model)  # before any data
    import torch
    from mmengine.dist import is_main_process
    from mmengine.utils import ProgressBar
    from torch.utils.data import DataLoader

    from mmseg.datasets.collate import seg_collate
    from mmseg.evaluation.format_results import save_result_png
    from mmseg.evaluation.iou_metric import IoUMetric
    from mmseg.evaluation.titles import eval_title
    from mmseg.evaluation.visualize import write_show_image
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules
    register_all_modules()

    dataset = DATASETS.build(dataset_cfg)
    prefix = args.eval_option.get('imgfile_prefix', osp.join(
        osp.dirname(args.checkpoint), 'labelTrainIds'))
    to_label_id = bool(args.eval_option.get('to_label_id',
                                            not submission.pack))
    meta = dataset.metainfo  # the class set of tables, plots, legends
    check_label_id_output(args, to_label_id, meta['classes'])
    pngs, overlays = planned_outputs(dataset, args, prefix)
    report_unlisted_images(dataset)
    sampler = distributed_sampler(cfg, args, dataset)
    loader = DataLoader(
        dataset, batch_size=1, shuffle=False, sampler=sampler,
        collate_fn=seg_collate,
        num_workers=int(cfg.data.get('workers_per_gpu', 0)))
    apply_test_overrides(cfg, args)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = init_model(cfg, args.checkpoint, device, test_model=test_model,
                       trust_checkpoint=args.trust_checkpoint)
    main_process = is_main_process()
    if main_process:
        print(f'evaluating the {test_model} of {args.checkpoint}')
    governor, _ = thread_governor_for(cfg, device)  # CPU contention

    # 'gpu' collection = all_gather of the per-image areas (gloo or NCCL)
    split = 'test' if args.test_set else 'val'  # data.test: the val split
    metric = IoUMetric(title=eval_title(dataset_cfg, test_model, split),
                       collect_device='gpu',
                       with_confusion=bool(args.plot)) if args.eval else None
    if metric is not None:
        metric.dataset_meta = meta
    progress = ProgressBar(len(loader), file=sys.stdout) \
        if main_process else None
    written = set()
    drawn = {'with labels': 0, 'without labels': 0, 'resized': 0}
    size = figure_size(dataset) if args.show_dir else None
    meta = model.dataset_meta
    with torch.no_grad():
        for batch in loader:
            results = [as_metric_sample(r, batch, i) for i, r in
                       enumerate(inference_batch(model, batch))]
            if metric is not None:
                metric.process(batch, results)
            for result in results:
                filename = result['img_metas']['filename']
                rel = result['img_metas']['ori_filename']
                if args.format_only:
                    written.add(save_result_png(
                        result['pred_sem_seg'], pngs[rel], to_label_id,
                        filename, palette=meta['palette']))
                    if submission.confidence:
                        save_confidence(result, pngs[rel], prefix)
                if args.show_dir:
                    label = result.get('gt_sem_seg')
                    write_show_image(filename, result['pred_sem_seg'],
                                     overlays[rel], label=label,
                                     classes=meta['classes'],
                                     palette=meta['palette'],
                                     opacity=args.opacity, size=size)
                    drawn['without labels' if label is None else
                          'with labels'] += 1
                    ori = result['img_metas']['ori_shape']
                    drawn['resized'] += (ori[1], ori[0]) != tuple(size)
            if progress is not None:
                progress.update()
            change = governor.poll() if governor is not None else None
            if change and main_process:
                print(f'\n{change}', flush=True)
    written_count = len(written)
    if sampler is not None:
        from mmseg.utils.dist import all_reduce_sum
        written_count = int(all_reduce_sum(torch.tensor(written_count)))
        drawn = {k: int(all_reduce_sum(torch.tensor(v)))
                 for k, v in drawn.items()}
    if main_process:
        print()
        if args.format_only:
            print(f'wrote {written_count} prediction PNGs to {prefix}')
        if submission.pack:
            from mmseg.evaluation.submission import pack_submission
            report = pack_submission(prefix, submission.dataset,
                                     submission.test_root, submission.pack,
                                     conditions=submission.conditions)
            print(f'wrote {report.out}: {report.files} PNGs for '
                  f'{report.images} test images ({submission.dataset} '
                  'server layout)')
        if args.show_dir:
            print(show_dir_summary(drawn, size, args.show_dir))
    metrics = metric.evaluate(len(dataset)) if metric is not None else {}
    if metric is not None and main_process and (args.out or args.plot):
        from mmseg.evaluation.report import write_evaluation_outputs
        from mmseg.evaluation.titles import split_of
        context = dict(config=args.config, checkpoint=args.checkpoint,
                       network=test_model,
                       data='data.test_set' if args.test_set else 'data.test',
                       split=split_of(dataset_cfg, split))
        for path in write_evaluation_outputs(
                metrics, metric.class_names, metric.confusion, args.out,
                args.plot, context):
            print(f'wrote {path}')
    if sampler is not None:
        from mmseg.engine.distributed import shutdown_distributed
        shutdown_distributed()
    return metrics


if __name__ == '__main__':
    sys.exit(run_cli(main))
