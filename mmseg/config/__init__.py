"""The config layer: which keys and values a config and ``--cfg-options``
may hold, checked before anything is built. Tools use these names."""
from mmseg.errors import ConfigError
from .keys import check_eval_metrics
from .loader import describe_build_error, load_config
from .options import add_cfg_options_argument, as_arguments
from .registered_types import unknown_type_error

__all__ = [
    'ConfigError', 'add_cfg_options_argument', 'as_arguments',
    'check_eval_metrics', 'describe_build_error', 'load_config',
    'unknown_type_error'
]
