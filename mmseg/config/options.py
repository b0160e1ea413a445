"""``--cfg-options key=value ...``: read from the command line, then checked
against the config before it is merged (nothing is built before).

Every refused entry of one command line is named in one message: an entry
that is not ``key=value``, a key the config does not have or read
(:func:`mmseg.config.keys.check_option_key`), an mmseg 1.x name without a
counterpart, a value its key cannot take (:mod:`mmseg.config.values`) and a
data folder that does not exist.
"""
import os.path as osp
from typing import Any, Dict, List

from mmengine.config import DictAction

from mmseg.errors import ConfigError
from .keys import SECTION_KEYS, check_option_key
from .mmseg1x import map_mmseg1x_option
from .values import value_problem

PATH_KEYS = ('data_root', )


class CfgOptions(dict):
    """The parsed ``{key: value}`` entries, plus the ``malformed`` ones
    (not ``key=value``), kept to be reported with the other refusals."""

    def __init__(self, *args, malformed: List[str] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.malformed = list(malformed)


class CfgOptionsAction(DictAction):
    """mmengine's ``DictAction`` (values parsed the same way) that keeps an
    entry without ``=`` or without a key instead of failing on it."""

    def __call__(self, parser, namespace, values, option_string=None):
        previous = getattr(namespace, self.dest, None) or {}
        options = CfgOptions(previous,
                             malformed=getattr(previous, 'malformed', ()))
        for entry in values or ():
            key, sep, value = entry.partition('=')
            if not sep or not key:
                options.malformed.append(entry)
            else:
                options[key] = self._parse_iterable(value)
        setattr(namespace, self.dest, options)


def add_cfg_options_argument(parser) -> None:
    """Add ``--cfg-options key=value ...`` (alias ``--options``)."""
    parser.add_argument(
        '--cfg-options',
        '--options',
        nargs='+',
        action=CfgOptionsAction,
        metavar='KEY=VALUE',
        help='override config keys, e.g. uda.alpha=0.99 '
        'data.samples_per_gpu=1')


def as_arguments(options: Dict[str, Any]) -> List[str]:
    """``options`` written back as ``key=value`` words (malformed entries
    as given), to hand on to another tool's ``--cfg-options``."""
    words = [f'{k}={v!r}'.replace(' ', '') if not isinstance(v, str)
             else f'{k}={v}' for k, v in options.items()]
    return words + list(getattr(options, 'malformed', ()))


def check_cfg_options(cfg: dict, options: Dict[str, Any],
                      filename: str) -> Dict[str, Any]:
    """``options`` with mmseg 1.x names mapped onto ours, each checked
    against ``cfg`` (before merging).

    Raises:
        ConfigError: one line naming every refused entry and the config.
    """
    refused = [f'--cfg-options {entry}: not KEY=VALUE'
               for entry in getattr(options, 'malformed', ())]
    mapped = {}
    for key, value in options.items():
        try:
            ours = map_mmseg1x_option(key, filename)
            if ours != key:
                print(f'--cfg-options {key}: mmseg 1.x name, read as {ours}')
            check_option_key(cfg, ours, value, filename)
        except ConfigError as err:
            refused.append(str(err))
            continue
        problem = value_problem(ours, value)
        if problem is not None:
            refused.append(f'--cfg-options {key}={value}: {problem} '
                           f'(config {filename})')
            continue
        if key.split('.')[-1] in PATH_KEYS and isinstance(value, str) \
                and not osp.isdir(value):
            refused.append(f'--cfg-options {key}={value}: folder not found '
                           f'(config {filename})')
            continue
        mapped[ours] = value
        section = ours.split('.')[0]
        if '.' in ours and section in SECTION_KEYS and \
                cfg.get(section, {}) is None:
            cfg[section] = {}  # e.g. optimizer_config = None in the file
    if refused:
        raise ConfigError(' | '.join(refused))
    return mapped
