"""Turns an HRDA/MMSegmentation-0.x style config into an mmengine runner.

Users write the config keys they know from HRDA/DAFormer (``data``,
``optimizer``, ``lr_config``, ``runner``, ``evaluation``, ``checkpoint_config``,
``log_config``, ``uda``); this module maps them, in one place, onto mmengine's
dataloaders, loops, optimiser wrapper, scheduler, hooks and visualizer
(``log_config.hooks`` and ``visualizer``: :mod:`.visualizer_cfg`).
"""
import copy
from typing import Any, Dict, Optional, Tuple, Union

from mmengine.config import Config, ConfigDict

from mmseg.errors import ConfigError
from .checkpoint_config import (checkpoint_hook_cfg,
                                warn_save_best_without_evaluation)
from .class_set_cfg import apply_class_set
from .cpu_threads_cfg import cpu_threads_plan
from .visualizer_cfg import visualizer_from

DEFAULT_LOG_INTERVAL = 50


def _plain(value: Any) -> Any:
    """A deep copy of config values as plain dicts/lists."""
    if isinstance(value, (dict, ConfigDict)):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(v) for v in value)
    return copy.deepcopy(value)


def _require(cfg: Config, key: str) -> Any:
    if key not in cfg:
        raise ConfigError(f'config {cfg.filename} has no "{key}" section')
    return cfg[key]


def model_cfg_from(cfg: Config) -> Dict:
    """The model to train: the segmentor, or the UDA wrapper around it,
    checked against the dataset's class set (:mod:`.class_set_cfg`)."""
    model = _plain(_require(cfg, 'model'))
    model, uda = apply_class_set(
        model, _plain(cfg.uda) if cfg.get('uda') else None, cfg)
    if uda is None:
        return model
    uda['model'] = model
    uda['max_iters'] = int(_require(cfg, 'runner')['max_iters'])
    return uda


def dataloaders_from(cfg: Config) -> Dict[str, Dict]:
    data = _plain(_require(cfg, 'data'))
    workers = int(data.get('workers_per_gpu', 0))
    common = dict(
        num_workers=workers,
        persistent_workers=workers > 0,
        collate_fn=dict(type='mmseg.seg_collate'))
    train = dict(
        common,
        batch_size=int(data.get('samples_per_gpu', 2)),
        sampler=dict(type='SeededInfiniteSampler', shuffle=True),
        dataset=data['train'])
    val = dict(
        common,
        batch_size=1,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=data.get('val', data.get('test')))
    return dict(train_dataloader=train, val_dataloader=val)


AMP_KEYS = ('dtype', 'loss_scale')
AMP_WRAPPER_TYPES = ('AmpOptimWrapper', 'MixedPrecisionOptimWrapper')


def _amp_of_optim_wrapper(cfg: Config) -> Optional[Dict]:
    """mmseg 1.x's ``optim_wrapper=dict(type='AmpOptimWrapper', dtype=..)``
    as ``amp`` options; the optimiser itself comes from ``optimizer``."""
    wrapper = cfg.get('optim_wrapper')
    if wrapper is None:
        return None
    wrapper = _plain(wrapper)
    if wrapper.pop('type', None) not in AMP_WRAPPER_TYPES:
        raise ConfigError(
            f'config {cfg.filename}: optim_wrapper is read only as mmseg '
            f"1.x's mixed-precision switch dict(type='AmpOptimWrapper', "
            f"dtype='bfloat16'); set the optimiser with optimizer / "
            f'optimizer_config')
    return wrapper


def amp_from(cfg: Config) -> Optional[Dict]:
    """Mixed-precision options of ``cfg``: ``amp=dict(dtype=..,
    loss_scale=..)``, mmseg 1.x's ``optim_wrapper=dict(type=
    'AmpOptimWrapper', dtype=..)`` or mmseg 0.x's ``fp16=dict(loss_scale=
    ..)`` (at most one of them); None for fp32 training."""
    given = [k for k in ('amp', 'fp16', 'optim_wrapper')
             if cfg.get(k) is not None]
    if len(given) > 1:
        raise ConfigError(f'config {cfg.filename}: set one of {given} for '
                          'mixed precision, not several')
    amp, fp16 = cfg.get('amp'), cfg.get('fp16')
    if amp is None:
        amp = _amp_of_optim_wrapper(cfg)
    if fp16 is not None:
        if not isinstance(fp16, dict) or set(fp16) - {'loss_scale'}:
            raise ConfigError(f'config {cfg.filename}: fp16 must be '
                              f"dict(loss_scale=...), got {fp16!r}")
        return dict(_plain(fp16), dtype='float16')
    if amp is None:
        return None
    if not isinstance(amp, dict):
        raise ConfigError(f'config {cfg.filename}: amp must be a dict like '
                          f"dict(dtype='bfloat16'), got {amp!r}")
    unknown = sorted(set(amp) - set(AMP_KEYS))
    if unknown:
        raise ConfigError(f'config {cfg.filename}: unknown amp key(s) '
                          f'{unknown} (known: {list(AMP_KEYS)})')
    from .mixed_precision import parse_dtype
    amp = _plain(amp)
    amp.setdefault('dtype', 'bfloat16')
    try:
        parse_dtype(amp['dtype'])
    except ValueError as err:
        raise ConfigError(f'config {cfg.filename}: {err}') from err
    return amp


def optim_wrapper_from(cfg: Config) -> Dict:
    optimizer = _plain(_require(cfg, 'optimizer'))
    paramwise_cfg = optimizer.pop('paramwise_cfg', None) or {}
    wrapper = dict(
        type='OptimWrapper',
        optimizer=optimizer,
        paramwise_cfg=paramwise_cfg,
        constructor='TrainableOptimWrapperConstructor')
    amp = amp_from(cfg)
    if amp:
        wrapper.update(type='MixedPrecisionOptimWrapper', **amp)
    optimizer_config = cfg.get('optimizer_config') or {}
    if optimizer_config.get('grad_clip'):
        wrapper['clip_grad'] = _plain(optimizer_config['grad_clip'])
    return wrapper


def param_scheduler_from(cfg: Config) -> Optional[Dict]:
    lr_config = _plain(cfg.get('lr_config') or {})
    if not lr_config:
        return None
    policy = lr_config.pop('policy', 'poly')
    if policy != 'poly':
        raise ConfigError(f'lr_config.policy "{policy}" in {cfg.filename} is '
                          'not supported (supported: poly)')
    warmup = lr_config.pop('warmup', None)
    return dict(
        type='PolyLRWithWarmup',
        by_epoch=False,
        begin=0,
        end=int(cfg.runner.max_iters),
        max_iters=int(cfg.runner.max_iters),
        power=lr_config.get('power', 1.0),
        min_lr=lr_config.get('min_lr', 0.0),
        warmup_iters=lr_config.get('warmup_iters', 0) if warmup else 0,
        warmup_ratio=lr_config.get('warmup_ratio', 1e-6))


def hooks_from(cfg: Config) -> Dict[str, Any]:
    log_config = cfg.get('log_config') or {}
    max_iters = int(cfg.runner.max_iters)
    default_hooks = dict(
        timer=dict(type='IterTimerHook'),
        logger=dict(
            type='LoggerHook',
            interval=log_config.get('interval', DEFAULT_LOG_INTERVAL),
            log_metric_by_epoch=False),
        param_scheduler=dict(type='ParamSchedulerHook'),
        checkpoint=checkpoint_hook_cfg(cfg, max_iters),
        sampler_seed=dict(type='DistSamplerSeedHook'),
        finite_loss=dict(type='FiniteLossHook'))
    cpu_threads_hook, _ = cpu_threads_plan(cfg)
    if cpu_threads_hook is not None:  # CPU runs: threads follow contention
        default_hooks['cpu_threads'] = cpu_threads_hook
    custom_hooks = _plain(cfg.get('custom_hooks') or [])
    img_interval = log_config.get('img_interval')
    if img_interval and cfg.get('uda'):
        custom_hooks.append(
            dict(type='UDADebugImageHook', interval=img_interval))
    return dict(default_hooks=default_hooks, custom_hooks=custom_hooks)


def eval_title_of(cfg: Config) -> str:
    """What validation evaluates, e.g. ``'DarkZurich night val, student'``."""
    from mmseg.evaluation.titles import deployed_network, eval_title
    data = cfg.get('data') or {}
    return eval_title(data.get('val', data.get('test')) or {},
                      deployed_network(cfg), default_split='val')


AUTO_SCALE_LR_KEYS = ('enable', 'base_batch_size')


def auto_scale_lr_from(cfg: Config) -> Optional[Dict]:
    """``auto_scale_lr=dict(enable=False, base_batch_size=N)`` (mmseg 1.x):
    when enabled the runner multiplies the learning rates by
    ``world size * samples_per_gpu / base_batch_size``. Off by default."""
    scale = cfg.get('auto_scale_lr')
    if scale is None:
        return None
    scale = _plain(scale)
    unknown = sorted(set(scale) - set(AUTO_SCALE_LR_KEYS))
    if unknown:
        raise ConfigError(f'auto_scale_lr in {cfg.filename}: unknown key(s) '
                          f'{unknown} (known: {list(AUTO_SCALE_LR_KEYS)})')
    if scale.get('enable', False):
        base = scale.get('base_batch_size')
        if not isinstance(base, int) or base <= 0:
            raise ConfigError(f'auto_scale_lr.base_batch_size in '
                              f'{cfg.filename} must be a positive int, '
                              f'got {base!r}')
    return scale


def compile_from(cfg: Config) -> Union[bool, Dict]:
    """``compile`` of ``cfg`` (False, True or torch.compile kwargs)."""
    from mmseg.models.utils.compiling import compile_options
    value = cfg.get('compile', False)
    if value is False or value is None:
        return False
    try:
        compile_options(_plain(value) if isinstance(value, dict) else value,
                        f'config {cfg.filename}: compile')
    except ValueError as err:
        raise ConfigError(str(err)) from err
    return _plain(value) if isinstance(value, dict) else value


def host_allocator_from(cfg: Config) -> str:
    """``host_allocator`` of ``cfg`` (``'retain'``, the default, or
    ``'system'``; see :mod:`mmseg.utils.host_allocator`).

    Raises:
        ConfigError: another value (the message names the key and file).
    """
    from mmseg.utils.host_allocator import check_host_allocator
    try:
        return check_host_allocator(
            cfg.get('host_allocator', 'retain'),
            f'config {cfg.filename}: host_allocator')
    except ValueError as err:
        raise ConfigError(str(err)) from err


def apply_host_allocator(cfg: Config) -> Tuple[str, bool]:
    """Apply ``cfg``'s ``host_allocator`` to this process (entry points call
    it before building anything); returns the policy and whether glibc was
    changed.

    Raises:
        ConfigError: an unknown policy.
    """
    from mmseg.utils.host_allocator import configure_host_allocator
    policy = host_allocator_from(cfg)
    return policy, configure_host_allocator(policy)


def environment_line(cfg: Config) -> str:
    """One line for the log: CPU threads and OpenMP wait policy (and
    whether they are the project's defaults, :mod:`mmseg.utils.cpu_threads`),
    whether the thread count adapts to CPU contention during the run
    (:mod:`.cpu_threads_cfg`), the host allocator, and mixed precision, e.g.
    ``'CPU threads 2 (default) of 2 usable cores, OpenMP wait policy unset
    (libgomp spins, then sleeps); intra-op threads adapt to CPU contention
    (checked every 10 s); host allocator retain; bf16 autocast on'``."""
    from mmseg.utils.cpu_threads import describe_cpu_threads
    amp = amp_from(cfg)
    if amp is None:
        precision = 'autocast off (fp32)'
    else:
        from .mixed_precision import parse_dtype
        short = {'torch.bfloat16': 'bf16', 'torch.float16': 'fp16'}
        name = short.get(str(parse_dtype(amp['dtype'])), str(amp['dtype']))
        precision = f'{name} autocast on'
    _, adaptation = cpu_threads_plan(cfg)
    return (f'{describe_cpu_threads()}; {adaptation}; host allocator '
            f'{host_allocator_from(cfg)}; {precision}')


def runner_kwargs_from(cfg: Config,
                       work_dir: str,
                       validate: bool = True) -> Dict[str, Any]:
    """All keyword arguments of :class:`SegRunner` for ``cfg``."""
    runner_cfg = _require(cfg, 'runner')
    if 'max_iters' not in runner_cfg:
        raise ConfigError(f'runner.max_iters is missing in {cfg.filename}')
    evaluation = cfg.get('evaluation') or {}
    max_iters = int(runner_cfg['max_iters'])
    kwargs: Dict[str, Any] = dict(
        model=model_cfg_from(cfg),
        work_dir=work_dir,
        optim_wrapper=optim_wrapper_from(cfg),
        param_scheduler=param_scheduler_from(cfg),
        train_cfg=dict(
            type='SeededIterBasedTrainLoop',
            max_iters=max_iters,
            val_interval=evaluation.get('interval', max_iters)),
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(
            dict(type='IoUMetric', title=eval_title_of(cfg),
                 # all_gather of the per-image areas; needs no shared tmp dir
                 collect_device='gpu'),
            **_plain(evaluation.get('metric_options', {}))),
        load_from=cfg.get('load_from'),
        resume=bool(cfg.get('resume', False)),
        launcher=cfg.get('launcher', 'none'),
        env_cfg=dict(
            cudnn_benchmark=cfg.get('cudnn_benchmark', False),
            dist_cfg=_plain(cfg.get('dist_params') or {})),
        # rank r seeds its RNGs with seed + r: rank-distinct crops, mixing
        # and augmentation (weights are broadcast from rank 0 after init)
        randomness=dict(
            seed=cfg.get('seed'),
            deterministic=bool(cfg.get('deterministic', False)),
            diff_rank_seed=True),
        log_level=cfg.get('log_level', 'INFO'),
        log_processor=dict(by_epoch=False),
        default_scope='mmseg',
        cfg=cfg,
        auto_scale_lr=auto_scale_lr_from(cfg),
        trust_checkpoint=bool(cfg.get('trust_checkpoint', False)),
        compile_networks=compile_from(cfg))
    if cfg.get('resume_from'):
        kwargs.update(load_from=cfg.resume_from, resume=True)
    kwargs.update(dataloaders_from(cfg))
    kwargs.update(hooks_from(cfg))
    log_interval = (cfg.get('log_config') or {}).get('interval',
                                                     DEFAULT_LOG_INTERVAL)
    kwargs['visualizer'] = _plain(visualizer_from(cfg, log_interval))
    if not validate or evaluation.get('interval', 1) <= 0:
        kwargs.update(val_dataloader=None, val_cfg=None, val_evaluator=None)
        warn_save_best_without_evaluation(kwargs['default_hooks'])
    return kwargs


def build_runner(cfg: Config, work_dir: str, validate: bool = True):
    """Build the :class:`SegRunner` of ``cfg`` writing into ``work_dir``."""
    from .runner import SegRunner
    return SegRunner(**runner_kwargs_from(cfg, work_dir, validate),
                     environment=environment_line(cfg))
