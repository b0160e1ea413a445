"""Dump confident pseudo-labels of the target train set (SeCo input).

    python tools/seco/dump_pseudo_labels.py CONFIG CHECKPOINT OUT_DIR
        [--threshold 0.9] [--weights-prefix PREFIX] [--device cuda]
        [--dataset-key data.train.target] [--pipeline-key data.test.pipeline]
        [--trust-checkpoint] [--cfg-options k=v ...]

Each image of the dataset at ``--dataset-key`` is run through the test
pipeline (``--pipeline-key``, annotation loading removed) and
``model.inference(img, img_metas, rescale=True)``; the label is the argmax
where the maximum probability is >= the threshold, else 255, written as
``OUT_DIR/<image base name>.png`` at the original image size.

Weights: without ``--weights-prefix`` the student is loaded with
``mmseg.models.weights.load_segmentor_checkpoint``; with it (e.g. the EMA
teacher's prefix of a UDA checkpoint) only the keys under that prefix are
taken, stripped, and loaded strictly.
"""
import argparse
import copy
import os.path as osp
import sys
from typing import Any, List, Optional

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import seco_files  # noqa: E402,F401  (puts the repository on sys.path)

import torch  # noqa: E402

from mmseg.config import add_cfg_options_argument, load_config  # noqa
from mmseg.evaluation.output_paths import (dataset_image_paths,  # noqa: E402
                                           plan_outputs)
from mmseg.models.weights import check_state_dict  # noqa: E402
from mmseg.models.weights import load_segmentor_checkpoint  # noqa: E402
from mmseg.registry import DATASETS, MODELS  # noqa: E402
from mmseg.seco.relabel import confident_labels, write_label  # noqa: E402
from mmseg.utils.checkpoint_io import (extract_state_dict,  # noqa: E402
                                       load_checkpoint_file)
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

ANNOTATION_LOADERS = ('LoadAnnotations', )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('out_dir')
    parser.add_argument('--threshold', type=float, default=0.9)
    parser.add_argument('--weights-prefix', default=None,
                        help='load only the keys under this prefix')
    parser.add_argument('--dataset-key', default='data.train.target')
    parser.add_argument('--pipeline-key', default='data.test.pipeline')
    parser.add_argument('--device', default='cuda' if
                        torch.cuda.is_available() else 'cpu')
    parser.add_argument('--trust-checkpoint', action='store_true')
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


def lookup(cfg: Any, dotted: str, filename: str) -> Any:
    node = cfg
    for part in dotted.split('.'):
        if part not in node:
            raise KeyError(f'{filename}: config has no key {dotted!r}')
        node = node[part]
    return node


def load_weights(model: torch.nn.Module, args: argparse.Namespace) -> None:
    if args.weights_prefix is None:
        load_segmentor_checkpoint(model, args.checkpoint,
                                  trusted=args.trust_checkpoint)
        return
    state = extract_state_dict(
        load_checkpoint_file(args.checkpoint, trusted=args.trust_checkpoint),
        args.checkpoint)
    prefix = args.weights_prefix
    state = {k[len(prefix):]: v for k, v in state.items()
             if k.startswith(prefix)}
    check_state_dict(model, state, args.checkpoint)
    model.load_state_dict(state, strict=True)


def build_dataset(cfg: Any, args: argparse.Namespace):
    dataset_cfg = copy.deepcopy(lookup(cfg, args.dataset_key, args.config))
    pipeline = [t for t in lookup(cfg, args.pipeline_key, args.config)
                if t['type'] not in ANNOTATION_LOADERS]
    dataset_cfg['pipeline'] = pipeline
    dataset_cfg['test_mode'] = True
    return DATASETS.build(dataset_cfg)


@torch.no_grad()
def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    model = MODELS.build(cfg.model)
    load_weights(model, args)
    model.to(args.device).eval()
    dataset = build_dataset(cfg, args)
    # SeCo's label folders are flat: two images of one base name would
    # overwrite each other, so that stops here, before anything is written
    outputs = plan_outputs(dataset_image_paths(dataset), args.out_dir)
    for index in range(len(dataset)):
        sample = dataset[index]
        img, meta = sample['img'], sample['img_metas']
        if isinstance(img, (list, tuple)):  # multi-scale style pipelines
            img, meta = img[0], meta[0]
        probs = model.inference(img[None].to(args.device), [meta],
                                rescale=True)
        label = confident_labels(probs[0].float().cpu().numpy(),
                                 args.threshold)
        write_label(label, outputs[meta['ori_filename']])
        if index % 50 == 0:
            print(f'[{index + 1}/{len(dataset)}] {meta["ori_filename"]}')
    print(f'wrote {len(dataset)} pseudo-labels to {args.out_dir}')


if __name__ == '__main__':
    sys.exit(run_cli(main))
