"""Loading experiment configs (HRDA/MMSegmentation 0.x keys) with clear
errors: the one entry point of the config layer."""
import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config

from mmseg.errors import ConfigError
from .keys import check_config_keys, check_top_level_keys
from .options import check_cfg_options


def load_config(filename: str,
                cfg_options: Optional[Dict] = None) -> Config:
    """Read ``filename`` (with ``_base_`` inheritance) and apply overrides.

    ``cfg_options`` are ``--cfg-options`` style ``{'a.b': value}`` pairs,
    checked first by :func:`mmseg.config.options.check_cfg_options`
    (keys must exist or be read, values must be ones their key takes;
    mmseg 1.x names are mapped onto ours), all refusals in one message.

    Raises:
        FileNotFoundError: ``filename`` does not exist.
        ConfigError: the file cannot be read, or a key or value is refused.
    """
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


def describe_build_error(err: Exception) -> str:
    """The first line of a registry build error (it names the type/key)."""
    text = str(err).strip().strip('"').splitlines()
    return text[0] if text else repr(err)
