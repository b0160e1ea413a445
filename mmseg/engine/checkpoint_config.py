"""``checkpoint_config`` (HRDA/mmseg 0.x) -> the checkpoint hook's config.

Every key is honoured or refused with a one-line :class:`ConfigError` naming
it; nothing is dropped silently. Supported keys:

* ``interval`` (iterations between checkpoints; default: only the last),
* ``max_keep_ckpts`` (default 1, as HRDA; <= 0 keeps all),
* ``by_epoch`` (only ``False``: training is iteration based),
* ``save_optimizer`` (default True; a checkpoint without it cannot resume),
* ``save_last`` (default True),
* ``save_best`` (``'mIoU'`` or another metric of the evaluation; keeps
  ``best_mIoU_iter_N.pth``) and ``rule`` (``'greater'``/``'less'``; default
  inferred, ``greater`` for IoU/accuracy). ``evaluation.save_best`` (mmseg
  0.x's place for it) is read too.
"""
import logging
from typing import Any, Dict, Mapping

from mmengine.logging import print_log

from mmseg.errors import ConfigError
from .atomic_backend import ATOMIC_BACKEND_ARGS

SUPPORTED_KEYS = ('interval', 'max_keep_ckpts', 'by_epoch', 'save_optimizer',
                  'save_last', 'save_best', 'rule')
RULES = ('greater', 'less')
METRIC_NAMES = ('mIoU', 'mAcc', 'aAcc', 'mIoU16', 'mIoU13')


def _int(ckpt: Mapping, key: str, default: int, filename: str) -> int:
    value = ckpt.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f'checkpoint_config.{key}={value!r} in {filename}: '
                          'expected an integer')
    return value


def _bool(ckpt: Mapping, key: str, default: bool, filename: str) -> bool:
    value = ckpt.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f'checkpoint_config.{key}={value!r} in {filename}: '
                          'expected True or False')
    return value


def _save_best(ckpt: Mapping, evaluation: Mapping, filename: str) -> Any:
    ours, theirs = ckpt.get('save_best'), evaluation.get('save_best')
    if ours and theirs and ours != theirs:
        raise ConfigError(
            f'checkpoint_config.save_best={ours!r} and evaluation.save_best='
            f'{theirs!r} in {filename} disagree; keep one')
    best = ours or theirs
    if best is None:
        return None
    if not isinstance(best, str) or not (
            best in METRIC_NAMES or best.startswith(('IoU.', 'Acc.'))):
        raise ConfigError(
            f'checkpoint_config.save_best={best!r} in {filename}: expected '
            f'one metric name: {", ".join(METRIC_NAMES)}, IoU.<class> or '
            'Acc.<class>')
    return best


def checkpoint_hook_cfg(cfg: Mapping, max_iters: int) -> Dict[str, Any]:
    """The ``SafeCheckpointHook`` config of ``cfg`` (see module doc).

    Raises :class:`ConfigError` naming an unsupported key or a bad value.
    """
    filename = getattr(cfg, 'filename', None) or 'the config'
    ckpt = cfg.get('checkpoint_config') or {}
    evaluation = cfg.get('evaluation') or {}
    unknown = sorted(k for k in ckpt if k not in SUPPORTED_KEYS)
    if unknown:
        raise ConfigError(
            f'checkpoint_config.{unknown[0]} in {filename} is not supported '
            f'(supported: {", ".join(SUPPORTED_KEYS)})')
    if ckpt.get('by_epoch', False) is not False:
        raise ConfigError(
            f'checkpoint_config.by_epoch={ckpt["by_epoch"]!r} in {filename}: '
            'training is iteration based; use by_epoch=False')
    hook = dict(
        type='SafeCheckpointHook',
        by_epoch=False,
        interval=_int(ckpt, 'interval', max_iters, filename),
        max_keep_ckpts=_int(ckpt, 'max_keep_ckpts', 1, filename),
        save_optimizer=_bool(ckpt, 'save_optimizer', True, filename),
        save_last=_bool(ckpt, 'save_last', True, filename),
        backend_args=ATOMIC_BACKEND_ARGS)
    best = _save_best(ckpt, evaluation, filename)
    if best is not None:
        hook['save_best'] = best
    rule = ckpt.get('rule')
    if rule is not None:
        if rule not in RULES:
            raise ConfigError(f'checkpoint_config.rule={rule!r} in '
                              f'{filename}: expected one of {RULES}')
        if best is None:
            raise ConfigError(f'checkpoint_config.rule in {filename} needs '
                              'checkpoint_config.save_best')
        hook['rule'] = rule
    return hook


def warn_save_best_without_evaluation(default_hooks: Dict[str, Any]) -> None:
    """Say so when ``save_best`` cannot work because evaluation is off."""
    best = default_hooks.get('checkpoint', {}).get('save_best')
    if best:
        print_log(f'checkpoint_config.save_best={best!r} keeps no best '
                  'checkpoint: evaluation is off (--no-validate or '
                  'evaluation.interval <= 0)', logger='current',
                  level=logging.WARNING)
