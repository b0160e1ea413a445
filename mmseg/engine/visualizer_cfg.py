"""Logging backends of a config, as mmengine's ``Visualizer``.

Two spellings are accepted and may be combined:

* HRDA/MMSegmentation 0.x::

      log_config = dict(interval=50, hooks=[
          dict(type='TextLoggerHook', by_epoch=False),
          dict(type='TensorboardLoggerHook'),
          dict(type='WandbLoggerHook', init_kwargs=dict(project='night'))])

* MMSegmentation 1.x::

      visualizer = dict(type='SegLocalVisualizer', vis_backends=[
          dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend'),
          dict(type='WandbVisBackend', init_kwargs=dict(project='night'))])

Both become ``dict(type='Visualizer', vis_backends=[...])``. Every train
log line (each loss term, ``lr``, pseudo-label statistics) and every
evaluation (``mIoU``, ``IoU.<class>``, ...) goes to every backend; the
TensorBoard event files land in ``<work_dir>/<timestamp>/vis_data`` (or the
hook's ``log_dir``). ``LocalVisBackend`` (``vis_data/scalars.json``, read by
``tools/analyze_logs.py``) is always on, as the text log is. An unknown type
or key, or a backend whose package is missing, is a :class:`ConfigError`
naming it.
"""
import importlib.util
from typing import Any, Dict, List, Mapping, Optional

from mmseg.errors import ConfigError

LOCAL = 'LocalVisBackend'
# backend type -> the package it needs (None: nothing beyond mmengine)
BACKEND_PACKAGES: Dict[str, Optional[str]] = {
    LOCAL: None,
    'TensorboardVisBackend': 'tensorboard',
    'WandbVisBackend': 'wandb',
}
# arguments of each backend a config may set (``save_dir`` defaults to the
# run's ``vis_data`` folder)
BACKEND_KEYS: Dict[str, frozenset] = {
    LOCAL: frozenset({'save_dir', 'name'}),
    'TensorboardVisBackend': frozenset({'save_dir', 'name'}),
    'WandbVisBackend': frozenset({
        'save_dir', 'name', 'init_kwargs', 'define_metric_cfg', 'commit',
        'log_code_name', 'watch_kwargs'
    }),
}
# 0.x logger hook -> (backend, {0.x argument: backend argument})
LOGGER_HOOKS: Dict[str, Any] = {
    'TextLoggerHook': (LOCAL, {}),
    'TensorboardLoggerHook': ('TensorboardVisBackend', {'log_dir':
                                                        'save_dir'}),
    'WandbLoggerHook': ('WandbVisBackend', {
        'init_kwargs': 'init_kwargs',
        'commit': 'commit',
        'define_metric_cfg': 'define_metric_cfg',
    }),
}
# arguments every 0.x logger hook had; checked, not passed on
COMMON_HOOK_KEYS = frozenset({'type', 'by_epoch', 'interval'})
VISUALIZER_TYPES = frozenset({'Visualizer', 'SegLocalVisualizer',
                              'mmseg.SegLocalVisualizer'})
# ``name`` is replaced by the run's name, so that two runs in one process
# never share a visualizer; ``save_dir`` defaults to the run's log folder.
VISUALIZER_KEYS = frozenset({'type', 'vis_backends', 'name', 'save_dir'})


def _has_package(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _refuse_keys(entry: Mapping, allowed: frozenset, where: str,
                 filename: str) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigError(
            f'{where}.{unknown[0]} in {filename} is not supported '
            f'(supported: {", ".join(sorted(allowed))})')


def _backend(entry: Mapping, where: str, filename: str) -> Dict[str, Any]:
    """A checked ``vis_backends`` entry."""
    kind = entry.get('type')
    if kind not in BACKEND_PACKAGES:
        raise ConfigError(
            f'{where}.type "{kind}" in {filename} is not supported '
            f'(supported: {", ".join(BACKEND_PACKAGES)})')
    _refuse_keys(entry, BACKEND_KEYS[kind] | {'type'}, where, filename)
    package = BACKEND_PACKAGES[kind]
    if package and not _has_package(package):
        raise ConfigError(f'{where} ({kind}) in {filename} needs the '
                          f'package "{package}": pip install {package}')
    return dict(entry)


def _from_logger_hook(hook: Mapping, index: int, interval: int,
                      filename: str) -> Dict[str, Any]:
    """The backend of one ``log_config.hooks`` entry."""
    where = f'log_config.hooks[{index}]'
    kind = hook.get('type')
    if kind not in LOGGER_HOOKS:
        raise ConfigError(
            f'{where}.type "{kind}" in {filename} is not supported '
            f'(supported: {", ".join(LOGGER_HOOKS)})')
    backend, renames = LOGGER_HOOKS[kind]
    _refuse_keys(hook, COMMON_HOOK_KEYS | set(renames), where, filename)
    if hook.get('by_epoch', False):
        raise ConfigError(f'{where}.by_epoch=True in {filename}: training '
                          'is iteration-based; use by_epoch=False')
    if hook.get('interval', interval) != interval:
        raise ConfigError(
            f'{where}.interval={hook["interval"]} in {filename}: all '
            f'backends log every log_config.interval={interval} iterations')
    entry = dict(type=backend)
    entry.update({new: hook[old] for old, new in renames.items()
                  if old in hook})
    return _backend(entry, where, filename)


def _from_visualizer(visualizer: Mapping, filename: str) -> List[Dict]:
    _refuse_keys(visualizer, VISUALIZER_KEYS, 'visualizer', filename)
    kind = visualizer.get('type', 'Visualizer')
    if kind not in VISUALIZER_TYPES:
        raise ConfigError(
            f'visualizer.type "{kind}" in {filename} is not supported '
            f'(supported: {", ".join(sorted(VISUALIZER_TYPES))})')
    backends = visualizer.get('vis_backends') or []
    if isinstance(backends, Mapping):
        backends = [backends]
    return [_backend(b, f'visualizer.vis_backends[{i}]', filename)
            for i, b in enumerate(backends)]


def visualizer_from(cfg: Any, interval: int) -> Dict[str, Any]:
    """The ``visualizer`` argument of the runner for ``cfg``.

    Args:
        cfg: the experiment config (mmengine ``Config``).
        interval: the train log interval in iterations.

    Raises:
        ConfigError: unknown hook/visualizer/backend type or key, a
            ``by_epoch`` or per-hook interval the runner cannot honour, a
            backend whose package is not installed, or a top-level
            ``vis_backends`` without a ``visualizer`` that uses it.
    """
    filename = getattr(cfg, 'filename', None) or 'the config'
    log_config = cfg.get('log_config') or {}
    backends = [
        _from_logger_hook(hook, i, interval, filename)
        for i, hook in enumerate(log_config.get('hooks') or [])
    ]
    visualizer = cfg.get('visualizer')
    if visualizer:
        backends += _from_visualizer(visualizer, filename)
    elif cfg.get('vis_backends'):
        raise ConfigError(f'vis_backends in {filename} is only read as '
                          'visualizer.vis_backends; add a visualizer')
    unique: Dict[str, Dict[str, Any]] = {LOCAL: dict(type=LOCAL)}
    for entry in backends:
        unique[entry.get('name', entry['type'])] = entry
    out: Dict[str, Any] = dict(
        type='Visualizer', vis_backends=list(unique.values()))
    if visualizer and visualizer.get('save_dir'):
        out['save_dir'] = visualizer['save_dir']
    return out
