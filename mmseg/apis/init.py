"""``init_model``: a config and a checkpoint to the network a run deploys."""
import copy
import os
from typing import Any, Dict, Optional, Union

import torch
import torch.nn as nn
from mmengine.config import Config

from .dataset_meta import dataset_meta
from .deploy import deployed_network, deployment_cfg


def load_cfg(config: Union[str, os.PathLike, Config],
             cfg_options: Optional[Dict[str, Any]] = None) -> Config:
    """A config file (``_base_`` inheritance, keys checked) or a copy of an
    mmengine ``Config``, with ``--cfg-options`` style overrides applied.

    Raises:
        FileNotFoundError, ConfigError: as :func:`load_config`.
        TypeError: ``config`` is neither a path nor a Config.
    """
    from mmseg.config.options import check_cfg_options
    from mmseg.config import load_config
    if isinstance(config, (str, os.PathLike)):
        return load_config(os.fspath(config), cfg_options)
    if not isinstance(config, Config):
        raise TypeError('config must be a file path or an mmengine Config, '
                        f'not {type(config).__name__}')
    cfg = copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(check_cfg_options(
            cfg, cfg_options, cfg.filename or '<Config>'))
    return cfg


def init_model(config: Union[str, os.PathLike, Config],
               checkpoint: Optional[str] = None,
               device: Union[str, torch.device] = 'cpu',
               cfg_options: Optional[Dict[str, Any]] = None,
               test_model: Optional[str] = None,
               *,
               trust_checkpoint: bool = False) -> nn.Module:
    """Build the deployed network of ``config`` and load ``checkpoint``.

    Args:
        config: config file path or mmengine ``Config`` (not modified).
        checkpoint: a training checkpoint (``iter_N.pth``: the whole UDA
            module) or a published segmentor checkpoint (DAFormer/HRDA
            releases, ``tools/publish_model.py`` output); None keeps random
            weights (no ``pretrained`` file is read either way).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'``, ...
        cfg_options: ``{'model.test_cfg.mode': 'slide', ...}`` overrides,
            checked like ``--cfg-options``.
        test_model: ``'student'``, ``'teacher'`` or EGLP's ``'nfnet'``,
            ``'nfnet_teacher'``, ``'fusion'``; default the config's
            ``uda.test_model``, else the student.
        trust_checkpoint: unpickle the checkpoint without
            ``weights_only`` (only for files you trust).

    Returns:
        The segmentor in eval mode on ``device`` (``model.backbone(x)`` -> 4
        feature maps, ``model.decode_head(maps)`` -> logits) for the student,
        teacher, nfnet and nfnet_teacher. For ``'fusion'`` (two teachers and
        the DMS fusion, no single backbone) the EGLP module, whose
        ``deployed_model()`` is the fusion. Attached: ``model.cfg`` (the
        config used), ``model.dataset_meta`` ``{'classes', 'palette'}`` (the
        test dataset's; also as mmseg 0.x ``CLASSES``/``PALETTE``) and
        ``model.deployed_network`` (the name).

    Raises:
        FileNotFoundError, ConfigError: config file or key problems.
        CheckpointLoadError: the checkpoint does not fit the network.
    """
    from mmengine.model import revert_sync_batchnorm

    from mmseg.models.weights import (load_segmentor_checkpoint,
                                      load_uda_checkpoint)
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    cfg = load_cfg(config, cfg_options)
    network = deployed_network(cfg, test_model)
    module = MODELS.build(deployment_cfg(cfg, network))
    if checkpoint is not None:
        load = (load_segmentor_checkpoint if network == 'student' else
                load_uda_checkpoint)
        load(module, checkpoint, trusted=trust_checkpoint)
    model = module
    if network != 'student':
        deployed = module.deployed_model()
        if isinstance(deployed, nn.Module):
            model = deployed  # the teacher / NFNet segmentor alone
    model = revert_sync_batchnorm(model)  # inference: running statistics
    model.to(device).eval()
    num_classes = getattr(model, 'num_classes', None) or \
        module.model.num_classes
    meta = dataset_meta(cfg, num_classes)
    model.cfg = cfg
    model.dataset_meta = meta
    model.CLASSES, model.PALETTE = meta['classes'], meta['palette']
    model.deployed_network = network
    return model
