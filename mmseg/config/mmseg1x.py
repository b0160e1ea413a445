"""The mmseg 1.x names users type, mapped onto the HRDA/mmseg 0.x keys
this framework reads (``train_cfg.max_iters`` -> ``runner.max_iters``).

Given through ``--cfg-options`` a 1.x name with one counterpart is read as
ours; one without, and any 1.x top-level key written in a config file, is
refused with a :class:`~mmseg.errors.ConfigError` naming what to use.
"""
from typing import Dict, Iterable, Optional, Tuple

from mmseg.errors import ConfigError

# mmseg 1.x name -> our key (None: no single key; the hint says what to use).
# Longest prefix first wins; ``a.b`` also covers ``a.b.c``.
MMSEG1X_NAMES: Dict[str, Tuple[Optional[str], str]] = {
    'train_cfg.max_iters': ('runner.max_iters', ''),
    'train_cfg.val_interval': ('evaluation.interval', ''),
    'train_cfg': (None, 'runner.max_iters and evaluation.interval'),
    'val_cfg': (None, 'evaluation.interval (and --no-validate)'),
    'test_cfg': (None, 'tools/test.py --eval mIoU and model.test_cfg'),
    'default_hooks.checkpoint.interval': ('checkpoint_config.interval', ''),
    'default_hooks.checkpoint.max_keep_ckpts':
        ('checkpoint_config.max_keep_ckpts', ''),
    'default_hooks.checkpoint.save_best': ('checkpoint_config.save_best', ''),
    'default_hooks.logger.interval': ('log_config.interval', ''),
    'default_hooks': (None, 'checkpoint_config.* and log_config.*'),
    'randomness.seed': ('seed', ''),
    'randomness.deterministic': ('deterministic', ''),
    'randomness': (None, 'seed and deterministic'),
    'optim_wrapper.optimizer': ('optimizer', ''),
    'optim_wrapper.clip_grad': ('optimizer_config.grad_clip', ''),
    'optim_wrapper.paramwise_cfg': ('optimizer.paramwise_cfg', ''),
    'train_dataloader.batch_size': ('data.samples_per_gpu', ''),
    'train_dataloader.num_workers': ('data.workers_per_gpu', ''),
    'train_dataloader.dataset': ('data.train', ''),
    'val_dataloader.dataset': ('data.val', ''),
    'test_dataloader.dataset': ('data.test', ''),
    'train_dataloader': (None, 'data.samples_per_gpu, data.workers_per_gpu '
                         'and data.train'),
    'val_dataloader': (None, 'data.val'),
    'test_dataloader': (None, 'data.test'),
    'param_scheduler': (None, 'lr_config (policy, power, min_lr, '
                        'warmup_iters, warmup_ratio)'),
    'val_evaluator': (None, 'evaluation.metric_options'),
    'test_evaluator': (None, 'evaluation.metric_options and tools/test.py '
                      '--eval mIoU'),
    'env_cfg.cudnn_benchmark': ('cudnn_benchmark', ''),
    'env_cfg.dist_cfg': ('dist_params', ''),
    'env_cfg': (None, 'cudnn_benchmark and dist_params'),
    'log_processor': (None, 'log_config'),
}
# 1.x names that some part of the framework reads as they are.
MMSEG1X_READ_AS_IS = ('optim_wrapper', )


def mmseg1x_name(key: str) -> Optional[Tuple[str, Optional[str], str]]:
    """``(1.x prefix, our key for it or None, hint)`` of ``key``, if it is
    an mmseg 1.x name; ``None`` otherwise."""
    parts = key.split('.')
    for n in range(len(parts), 0, -1):
        prefix = '.'.join(parts[:n])
        if prefix in MMSEG1X_NAMES:
            if n == 1 and prefix in MMSEG1X_READ_AS_IS:
                return None
            ours, hint = MMSEG1X_NAMES[prefix]
            return prefix, ours, hint
    return None


def map_mmseg1x_option(key: str, filename: str) -> str:
    """Our key for a ``--cfg-options`` key written with an mmseg 1.x name.

    Raises:
        ConfigError: for a 1.x name without a single counterpart, naming ours.
    """
    found = mmseg1x_name(key)
    if found is None:
        return key
    prefix, ours, hint = found
    if ours is None:
        raise ConfigError(f'--cfg-options {key}: "{prefix}" is an mmseg 1.x '
                          f'key that config {filename} (HRDA/mmseg 0.x '
                          f'keys) does not read; use {hint}')
    return ours + key[len(prefix):]


def refuse_mmseg1x_file_keys(keys: Iterable[str], filename: str) -> None:
    """Refuse top-level mmseg 1.x keys written in a config file, naming
    ours."""
    for key in keys:
        found = mmseg1x_name(key)
        if found is not None:
            raise ConfigError(f'config {filename}: "{key}" is an mmseg 1.x '
                              f'key that is not read here; use '
                              f'{found[2] or found[1]}')
