"""The toy stand-in for ImageNet weights: train a segmentor once, keep its backbone.

The real methods start from ImageNet-pretrained encoders (``mit_b5.pth``), which users supply.
For the generated toy data, ``configs/toy/toy_pretrain_mitb0.py`` trains MiT-B0 supervised on a
separate generated day set, and :func:`train_and_export` writes the backbone alone, in the
SegFormer key layout that ``pretrained=`` loads, atomically to ``out``.
:func:`mmseg.engine.toy_assets.ensure_toy_pretrained` runs this module once, in a child process
(so the caller's runner state is untouched):
``python -m mmseg.engine.toy_pretrain CONFIG OUT [WORK_DIR]``.
"""
import os.path as osp
import sys
from typing import Dict, Optional

import torch

from mmseg.config import load_config
from mmseg.engine.build import build_runner, eval_title_of
from mmseg.engine.toy_assets import prepare_toy_assets
from mmseg.utils import register_all_modules
from mmseg.utils.checkpoint_io import atomic_torch_save

BACKBONE_PREFIX = 'backbone.'


def backbone_state(model: torch.nn.Module) -> Dict[str, torch.Tensor]:
    """The ``backbone.*`` tensors of a segmentor, prefix removed, detached copies."""
    return {
        k[len(BACKBONE_PREFIX):]: v.detach().cpu().clone()
        for k, v in model.state_dict().items() if k.startswith(BACKBONE_PREFIX)
    }


def train_and_export(config: str, out: str, work_dir: Optional[str] = None) -> str:
    """Train ``config`` (generating its toy data) and write its backbone to ``out``."""
    cfg = load_config(config)
    cfg.merge_from_dict({'evaluation.metric_options.title':
                         f'toy pretraining, {eval_title_of(cfg)}'})
    register_all_modules()
    prepare_toy_assets(cfg)
    work_dir = work_dir or osp.join(
        'work_dirs', osp.splitext(osp.basename(config))[0])
    cfg.work_dir = work_dir
    runner = build_runner(cfg, work_dir, validate=True)
    runner.train()
    state = backbone_state(runner.model)
    if not state:
        raise ValueError(f'{config}: the trained model has no backbone.* weights')
    from mmseg.datasets.toy_data import FORMAT_VERSION
    atomic_torch_save(dict(state_dict=state,
                           meta=dict(config=config, toy_data_version=FORMAT_VERSION)), out)
    runner.logger.info(f'wrote {len(state)} backbone tensors to {out}')
    return out


if __name__ == '__main__':
    train_and_export(*sys.argv[1:4])
