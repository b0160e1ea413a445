"""Loading experiment configs (HRDA/MMSegmentation 0.x keys) with clear errors."""
import os.path as osp
from typing import Dict, Iterable, Optional

from mmengine.config import Config, DictAction

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
    'compile', 'host_allocator', 'reference',
})


class ConfigError(ValueError):
    """A config key is unknown, misspelt or has an unusable value."""


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance of two short strings."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                       prev + (ca != cb))
    return row[-1]


def check_top_level_keys(cfg: Config, filename: str,
                         known: Iterable[str] = KNOWN_TOP_LEVEL_KEYS) -> None:
    """Raise :class:`ConfigError` for top-level keys that look misspelt.

    Other names are helper variables of config files (``acdc_val = ...``);
    a name at most two edits away from a known key is taken as a typo.
    """
    known = set(known)
    for key in cfg.keys():
        if key in known or key.startswith('_'):
            continue
        close = [k for k in known if edit_distance(key, k) <= 2]
        if close:
            raise ConfigError(f'unknown key "{key}" in config {filename} '
                              f'(did you mean "{sorted(close)[0]}"?)')


def load_config(filename: str,
                cfg_options: Optional[Dict] = None) -> Config:
    """Read ``filename`` (with ``_base_`` inheritance) and apply overrides.

    ``cfg_options`` are ``--cfg-options`` style ``{'a.b': value}`` pairs,
    checked first by :func:`mmseg.engine.config_keys.check_cfg_options`
    (keys must exist or be read; mmseg 1.x names are mapped onto ours).

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        ConfigError: the file cannot be read, or a key is refused.
    """
    from .config_keys import check_cfg_options, check_config_keys
    if not osp.isfile(filename):
        raise FileNotFoundError(f'config file not found: {filename}')
    try:
        cfg = Config.fromfile(filename)
    except Exception as err:  # noqa: BLE001 - add the file name
        raise ConfigError(f'cannot read config {filename}: {err}') from err
    if cfg_options:
        cfg_options = check_cfg_options(cfg, cfg_options, filename)
        cfg.merge_from_dict(cfg_options)
    check_top_level_keys(cfg, filename)
    check_config_keys(cfg, filename)
    return cfg


def add_cfg_options_argument(parser) -> None:
    """Add mmengine's ``--cfg-options key=value`` argument to ``parser``."""
    parser.add_argument(
        '--cfg-options',
        '--options',
        nargs='+',
        action=DictAction,
        help='override config keys, e.g. uda.alpha=0.99 '
        'data.samples_per_gpu=1')


def describe_build_error(err: Exception) -> str:
    """The first line of a registry build error (it names the type/key)."""
    text = str(err).strip().strip('"').splitlines()
    return text[0] if text else repr(err)

