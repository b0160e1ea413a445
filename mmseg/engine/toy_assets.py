"""Files a toy config generates on first use: ``toy_data`` (the data set) and
``toy_pretrained`` (the stand-in for ImageNet weights).

The processes of a multi-process run all call :func:`prepare_toy_assets`;
a file lock lets the first generate while the others wait, then find the
files ready."""
import fcntl
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import Iterable, Iterator

from mmseg.engine.config_loader import ConfigError


def _check_keys(given: Iterable[str], known: Iterable[str], key: str, cfg) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f'{key}: unknown key(s) {", ".join(unknown)}; known: '
                          f'{", ".join(sorted(known))} (config {cfg.filename})')


LOCK_FILE = osp.join(tempfile.gettempdir(), 'nightseg-toy-assets.lock')


@contextmanager
def _exclusive(path: str = LOCK_FILE) -> Iterator[None]:
    with open(path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_toy_assets(cfg) -> None:
    """Generate the toy data set and the toy pretrained backbone a config names."""
    if not cfg.get('toy_data') and not cfg.get('toy_pretrained'):
        return
    with _exclusive():
        _prepare_toy_assets(cfg)


def _prepare_toy_assets(cfg) -> None:
    toy = dict(cfg.get('toy_data') or {})
    if toy:
        from mmseg.datasets.toy_data import DEFAULT_COUNTS, ensure_toy_dataset
        _check_keys(toy, ('root', 'seed', *DEFAULT_COUNTS), 'toy_data', cfg)
        ensure_toy_dataset(toy.pop('root', 'data/toy'), **toy)
    pretrained = dict(cfg.get('toy_pretrained') or {})
    if pretrained:
        from mmseg.engine.toy_pretrain import ensure_toy_pretrained
        _check_keys(pretrained, ('path', 'config', 'work_dir'), 'toy_pretrained', cfg)
        if 'path' not in pretrained or 'config' not in pretrained:
            raise ConfigError(f'toy_pretrained needs "path" and "config" '
                              f'(config {cfg.filename})')
        ensure_toy_pretrained(**pretrained)
