"""Which config keys the framework reads.

The rule for a key (in a config file or ``--cfg-options``):

* a top-level key is one of :data:`KNOWN_TOP_LEVEL_KEYS` (honoured), an
  mmseg 1.x name (:data:`~mmseg.config.mmseg1x.MMSEG1X_NAMES`: mapped onto
  ours when given through
  ``--cfg-options``, refused with our name when written in a file), or a
  helper variable of a config file (``train_pipeline = [...]``); a helper
  variable one or two edits away from a known key is refused as a typo;
* ``--cfg-options`` may only change keys that exist, or add a key that the
  thing it configures takes: an argument of the class named by the
  enclosing ``type=`` (``model.backbone.with_cp=True`` is accepted when the
  backbone class takes ``with_cp``), a documented sub-key of one of our
  sections (:data:`SECTION_KEYS`), or any key inside an open section
  (:data:`OPEN_SECTIONS`, options owned by a backend). Overriding a helper
  variable is refused: it was read when the file was parsed and changes
  nothing, so the message names the keys that hold its value.

Everything refused raises :class:`~mmseg.errors.ConfigError` naming the
key, the config file and, where one exists, the closest name.
"""
import inspect
import typing
from typing import Any, Dict, Iterable, List, Optional, Tuple

from mmseg.errors import ConfigError, did_you_mean
from .mmseg1x import refuse_mmseg1x_file_keys
from .registered_types import find_registered

# Top-level keys the framework reads. Other top-level names are allowed as
# helper variables of a config file (pipelines, norm_cfg, ...), unless they
# look like a misspelling of one of these.
KNOWN_TOP_LEVEL_KEYS = frozenset({
    'model', 'uda', 'data', 'optimizer', 'optimizer_config', 'optim_wrapper',
    'lr_config', 'runner', 'checkpoint_config', 'evaluation', 'log_config',
    'log_level', 'seed', 'deterministic', 'work_dir', 'load_from',
    'resume_from', 'resume', 'name', 'exp', 'workflow', 'dist_params',
    'cudnn_benchmark', 'find_unused_parameters', 'use_ddp_wrapper',
    'gpu_model', 'n_gpus', 'gpu_ids', 'launcher', 'toy_data', 'git_rev',
    'toy_pretrained', 'auto_scale_lr',
    'trust_checkpoint', 'debug_images', 'name_dataset', 'name_architecture',
    'name_encoder', 'name_decoder', 'name_uda', 'name_opt', 'custom_hooks',
    'default_scope', 'env_cfg', 'amp', 'fp16', 'crop_size', 'norm_cfg',
    'img_norm_cfg', 'train_pipeline', 'test_pipeline', 'source_pipeline',
    'target_pipeline', 'prompt_pipeline', 'dataset_type', 'data_root',
    'visualizer', 'vis_backends',  # logging backends (visualizer_cfg.py)
    'compile', 'host_allocator', 'reference', 'cpu_threads',
})

# Top-level keys that other parts of the framework own and read
# (distributed launch, mixed precision, logging backends).
KEYS_READ_ELSEWHERE = frozenset({
    'launcher', 'dist_params', 'auto_scale_lr', 'amp', 'fp16',
    'visualizer', 'optim_wrapper'})

# Top-level names that config files use as variables (read while the file
# is parsed, never afterwards); overriding them changes nothing.
HELPER_VARIABLES = frozenset({
    'norm_cfg', 'img_norm_cfg', 'train_pipeline', 'test_pipeline',
    'source_pipeline', 'target_pipeline', 'prompt_pipeline', 'dataset_type',
    'data_root', 'crop_size'})

# Sub-keys of our sections that hold no ``type``; a new sub-key of these is
# accepted only if it is listed here.
SECTION_KEYS: Dict[str, frozenset] = {
    'runner': frozenset({'type', 'max_iters'}),
    'checkpoint_config': frozenset(
        {'by_epoch', 'interval', 'max_keep_ckpts', 'save_best',
         'save_last'}),
    'log_config': frozenset({'interval', 'img_interval', 'hooks'}),
    'evaluation': frozenset({'interval', 'metric', 'metric_options'}),
    'optimizer_config': frozenset({'grad_clip'}),
    'lr_config': frozenset({'policy', 'power', 'min_lr', 'by_epoch',
                            'warmup', 'warmup_iters', 'warmup_ratio'}),
    'data': frozenset({'samples_per_gpu', 'workers_per_gpu', 'train', 'val',
                       'test', 'test_set'}),
    'model.test_cfg': frozenset({'mode', 'crop_size', 'stride',
                                 'batched_slide'}),
    'reference': frozenset({'value', 'label', 'source', 'metric'}),
    'cpu_threads': frozenset({'adapt', 'interval_s'}),
}

# Sections whose sub-keys belong to a backend and are checked there.
OPEN_SECTIONS = frozenset({
    'dist_params', 'amp', 'fp16', 'auto_scale_lr', 'visualizer',
    'log_config.hooks', 'optim_wrapper', 'toy_data', 'toy_pretrained',
    'custom_hooks'})

# Arguments our builders add to a ``type=`` dict besides the class's own.
EXTRA_TYPED_KEYS: Dict[str, frozenset] = {
    'optimizer': frozenset({'paramwise_cfg'}),
}

# Arguments the builder fills in itself (mmseg/engine/build.py), with the key
# that sets them.
SET_BY_BUILDER: Dict[str, str] = {
    'uda.max_iters': 'runner.max_iters',
    'uda.model': 'model',
}

EVAL_METRICS = ('mIoU', )

# Known 0.x keys that hold one supported value (anything else is refused).
FIXED_VALUES: Dict[str, Tuple[Any, str]] = {
    'workflow': ([('train', 1)], 'training is iteration based; validation '
                 'runs every evaluation.interval iterations'),
    'default_scope': ('mmseg', 'the registries are mmseg\'s'),
}
# Known 0.x keys this framework does not read: refused unless None.
NOT_READ: Dict[str, str] = {
    'gpu_ids': 'select GPUs with CUDA_VISIBLE_DEVICES or tools/dist_train.sh',
    'debug_images': 'use log_config.img_interval',
}


def _error(message: str) -> ConfigError:
    return ConfigError(message)


def check_top_level_keys(cfg: dict, filename: str) -> None:
    """Refuse top-level keys of a config file that look misspelt.

    Other names are helper variables of config files (``acdc_val = ...``);
    a name at most two edits away from a known key is taken as a typo.

    Raises:
        ConfigError: naming every such key, the file and the key meant.
    """
    typos = []
    for key in cfg.keys():
        if key in KNOWN_TOP_LEVEL_KEYS or key.startswith('_'):
            continue
        hint = did_you_mean(key, KNOWN_TOP_LEVEL_KEYS, max_edits=2)
        if hint:
            typos.append(f'unknown key "{key}" in config {filename}{hint}')
    if typos:
        raise _error(' | '.join(typos))


def check_eval_metrics(metrics: Iterable[str], where: str) -> None:
    """Refuse metric names we do not compute (``--eval``,
    ``evaluation.metric``)."""
    for metric in metrics:
        if metric not in EVAL_METRICS:
            raise _error(f'{where}: unknown metric "{metric}" (supported: '
                         f'{", ".join(EVAL_METRICS)})'
                         f'{did_you_mean(metric, EVAL_METRICS)}')


def class_arguments(type_name: Any) -> Optional[frozenset]:
    """Keyword arguments the class registered as ``type_name`` takes (those
    of its bases too where it forwards ``**kwargs``; for a factory function,
    those of the class its return annotation names); None if unknown or if
    it takes any keyword."""
    cls = type_name if isinstance(type_name, type) else \
        find_registered(type_name)
    if cls is None:
        return None
    names = set()
    if not isinstance(cls, type):  # a factory: the class it returns
        try:
            returns = typing.get_type_hints(cls).get('return')
        except Exception:  # noqa: BLE001 - unresolvable annotations
            returns = None
        if isinstance(returns, type):
            names = {p.name for p in inspect.signature(cls).parameters.values()
                     if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
            cls = returns
    for klass in getattr(cls, '__mro__', (cls, )):
        init = klass.__init__ if isinstance(klass, type) else klass
        try:
            params = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        names |= {p.name for p in params if p.kind in (
            p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)} - {'self'}
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            return frozenset(names)
        if klass is object:
            break
    return None


def _paths_holding(node: Any, value: Any, path: str = '') -> List[str]:
    """Dotted paths under ``node`` whose value equals ``value``."""
    if path and type(node) is type(value) and node == value:
        return [path]
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            found += _paths_holding(v, value, f'{path}.{k}' if path else k)
    elif isinstance(node, (list, tuple)):
        for i, v in enumerate(node):
            found += _paths_holding(v, value, f'{path}.{i}')
    return found


def _known_top_level() -> frozenset:
    return KNOWN_TOP_LEVEL_KEYS | KEYS_READ_ELSEWHERE


def _new_key_choices(section: str, node: dict) -> Optional[frozenset]:
    """Sub-keys a new key of dict ``node`` at ``section`` may be; None when
    any key is accepted."""
    if section in OPEN_SECTIONS or any(
            section.startswith(s + '.') for s in OPEN_SECTIONS):
        return None
    if section in SECTION_KEYS:
        return SECTION_KEYS[section]
    type_name = node.get('type')
    if type_name is not None:
        args = class_arguments(type_name)
        if args is None:
            return None
        return args | EXTRA_TYPED_KEYS.get(section, frozenset())
    return frozenset()


def _owner(section: str, node: dict) -> str:
    if section in SECTION_KEYS:
        keys = ', '.join(sorted(SECTION_KEYS[section]))
        return f'{section} (keys read: {keys})'
    type_name = node.get('type')
    if type_name is not None:
        name = getattr(type_name, '__name__', type_name)
        return f'{section} ({name} takes no argument of that name)'
    return f'{section} (a plain dict; only its keys {sorted(node)} exist)'


def check_option_key(cfg: dict, key: str, value: Any, filename: str) -> None:
    """Refuse ``--cfg-options key=value`` unless it changes an existing key
    or adds one that is read (see the module docstring)."""
    parts = key.split('.')
    top = parts[0]
    known = _known_top_level()
    if top not in cfg and top not in known:
        raise _error(f'--cfg-options {key}: config {filename} has no key '
                     f'"{top}"{did_you_mean(top, set(cfg) | known)}')
    if top in HELPER_VARIABLES or (top in cfg and top not in known):
        holders = _paths_holding(
            {k: v for k, v in cfg.items() if k in known and
             k not in HELPER_VARIABLES}, cfg[top]) if top in cfg else []
        more = f' (+{len(holders) - 4} more)' if len(holders) > 4 else ''
        where = (f'; set the keys that use its value instead: '
                 f'{", ".join(holders[:4])}{more}' if holders else '')
        if top not in cfg:
            raise _error(f'--cfg-options {key}: a top-level "{top}" is only '
                         f'a variable of config files and is never read '
                         f'(config {filename}); set the keys that use it, '
                         f'e.g. data.val.{top}' if top == 'data_root' else
                         f'--cfg-options {key}: a top-level "{top}" is only '
                         f'a variable of config files and is never read '
                         f'(config {filename})')
        raise _error(f'--cfg-options {key}: "{top}" is a variable of config '
                     f'{filename}, read only while the file is parsed, so '
                     f'changing it changes nothing{where}')
    for built, ours in SET_BY_BUILDER.items():
        if key == built or key.startswith(built + '.'):
            raise _error(f'--cfg-options {key}: {built} is set from {ours} '
                         f'when the run is built; set {ours} instead')
    if top not in cfg:
        if top not in SECTION_KEYS or len(parts) == 1:
            return  # a known top-level key that the config leaves unset
        node: Any = {}
    else:
        node = cfg[top]
    for depth, part in enumerate(parts[1:], 1):
        section = '.'.join(parts[:depth])
        if node is None and section in SECTION_KEYS:
            node = {}
        if isinstance(node, (list, tuple)):
            if not (part.isdigit() and int(part) < len(node)):
                raise _error(f'--cfg-options {key}: {section} is a list of '
                             f'{len(node)} in config {filename}; "{part}" '
                             'is not an index of it')
            node = node[int(part)]
            continue
        if not isinstance(node, dict):
            raise _error(f'--cfg-options {key}: {section} is {node!r} in '
                         f'config {filename}, not a dict')
        if part in node:
            node = node[part]
            continue
        choices = _new_key_choices(section, node)
        if choices is None or part in choices:
            return
        raise _error(f'--cfg-options {key}: no key "{part}" in '
                     f'{_owner(section, node)} of config {filename}'
                     f'{did_you_mean(part, set(choices) | set(node))}')
    if '.' not in key or top in SECTION_KEYS:
        _check_value_type(key, node, value, filename)


def _check_value_type(key: str, old: Any, new: Any, filename: str) -> None:
    """Refuse a text value where the config holds a number or a switch."""
    if isinstance(new, str) and isinstance(old, (bool, int, float)):
        kind = ('True or False' if isinstance(old, bool) else
                'an integer' if isinstance(old, int) else 'a number')
        raise _error(f'--cfg-options {key}={new}: expected {kind} (config '
                     f'{filename} has {old!r})')


# Sub-key names that, written at the top level of a file, are a misplaced
# setting rather than a helper variable (``max_iters = 4``).
MISPLACED_SUB_KEYS = frozenset({
    'max_iters', 'interval', 'img_interval', 'max_keep_ckpts',
    'samples_per_gpu', 'workers_per_gpu', 'grad_clip', 'power', 'min_lr',
    'warmup_iters', 'warmup_ratio', 'save_best', 'metric_options'})


def refuse_misplaced_sub_keys(keys: Iterable[str], filename: str) -> None:
    """Refuse ``max_iters = 4`` at the top level of a file, naming the
    section key(s) meant (``runner.max_iters``)."""
    for key in keys:
        if key in MISPLACED_SUB_KEYS:
            meant = sorted(f'{section}.{key}' for section, subs in
                           SECTION_KEYS.items() if key in subs)
            raise _error(f'config {filename}: top-level "{key}" is not read; '
                         f'use {" or ".join(meant)}')


def check_config_keys(cfg: dict, filename: str) -> None:
    """Refuse mmseg 1.x top-level keys in a config file, settings written
    at the top level instead of in their section, unsupported values of
    known keys and metric names we do not compute in ``evaluation.metric``.
    """
    refuse_mmseg1x_file_keys(
        [k for k in cfg if k != 'optim_wrapper'], filename)
    refuse_misplaced_sub_keys(cfg.keys(), filename)
    for key, (value, why) in FIXED_VALUES.items():
        given = cfg.get(key, value)
        if isinstance(given, (list, tuple)):
            given = [tuple(v) if isinstance(v, list) else v for v in given]
        if given != value:
            raise _error(f'config {filename}: {key}={cfg.get(key)!r} is not '
                         f'supported, only {value!r} ({why})')
    for section in ('checkpoint_config', 'lr_config', 'evaluation'):
        if (cfg.get(section) or {}).get('by_epoch'):
            raise _error(f'config {filename}: {section}.by_epoch=True is not '
                         'supported; training is iteration based')
    for key, hint in NOT_READ.items():
        if cfg.get(key) is not None:
            raise _error(f'config {filename}: {key} is not read; {hint}')
    metric = (cfg.get('evaluation') or {}).get('metric')
    if metric is not None:
        check_eval_metrics([metric] if isinstance(metric, str) else metric,
                           f'evaluation.metric in config {filename}')
