"""Files a toy config generates on first use: ``toy_data`` (the data set) and
``toy_pretrained`` (the stand-in for ImageNet weights).

The processes of a multi-process run all call :func:`prepare_toy_assets`;
a file lock per asset (one per data root, one per weight file) lets the
first generate while the others wait, then find the files ready. The locks
are per asset, never global: the toy pretraining runs in a child process
that prepares its own toy data, and unrelated runs must not wait on it."""
import fcntl
import hashlib
import os
import os.path as osp
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from typing import Iterable, Iterator, Optional

from mmseg.errors import ConfigError


def _check_keys(given: Iterable[str], known: Iterable[str], key: str, cfg) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f'{key}: unknown key(s) {", ".join(unknown)}; known: '
                          f'{", ".join(sorted(known))} (config {cfg.filename})')


def lock_file_of(root: str) -> str:
    """The lock file guarding the generation of the toy data set ``root``
    (in the temp folder, named after the absolute path)."""
    key = hashlib.sha1(osp.abspath(root).encode()).hexdigest()[:16]
    return osp.join(tempfile.gettempdir(), f'nightseg-toy-data-{key}.lock')


@contextmanager
def _exclusive(path: str) -> Iterator[None]:
    with open(path, 'a') as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def prepare_toy_assets(cfg) -> None:
    """Generate the toy data set and the toy pretrained backbone a config names."""
    toy = dict(cfg.get('toy_data') or {})
    if toy:
        from mmseg.datasets.toy_data import DEFAULT_COUNTS, ensure_toy_dataset
        _check_keys(toy, ('root', 'seed', *DEFAULT_COUNTS), 'toy_data', cfg)
        root = toy.pop('root', 'data/toy')
        with _exclusive(lock_file_of(root)):
            ensure_toy_dataset(root, **toy)
    pretrained = dict(cfg.get('toy_pretrained') or {})
    if pretrained:
        _check_keys(pretrained, ('path', 'config', 'work_dir'), 'toy_pretrained', cfg)
        if 'path' not in pretrained or 'config' not in pretrained:
            raise ConfigError(f'toy_pretrained needs "path" and "config" '
                              f'(config {cfg.filename})')
        ensure_toy_pretrained(**pretrained)


def pretrained_data_version(path: str) -> Optional[int]:
    """The toy data version a toy pretrained file was trained on (its ``meta``), None when
    the file does not say (written before the version was recorded, or not a toy file)."""
    import torch
    try:
        meta = torch.load(path, map_location='cpu', weights_only=True).get('meta') or {}
    except Exception:  # unreadable: the loader of the training names the problem
        return None
    version = meta.get('toy_data_version') if isinstance(meta, dict) else None
    return version if isinstance(version, int) else None


def _is_current(path: str, say: bool = True) -> bool:
    """Whether ``path`` exists and was trained on the current toy data; ``say``: print why not
    when it is outdated."""
    from mmseg.datasets.toy_data import FORMAT_VERSION
    if not osp.isfile(path):
        return False
    version = pretrained_data_version(path)
    if version == FORMAT_VERSION:
        return True
    if say:
        trained_on = 'an unrecorded version' if version is None else f'version {version}'
        print(f'toy_pretrained: {path} was trained on toy data of {trained_on}, the '
              f'generator is at version {FORMAT_VERSION}; training it again', flush=True)
    return False


def ensure_toy_pretrained(path: str, config: str, work_dir: Optional[str] = None) -> str:
    """Return ``path``, first creating it with ``config``'s training if it does not exist or
    was trained on another version of the toy data (:mod:`mmseg.engine.toy_pretrain`, in a
    child process; concurrent callers wait on a lock file instead of training twice)."""
    if _is_current(path, say=False):
        return path
    if not osp.isfile(config):
        raise FileNotFoundError(
            f'toy_pretrained: config {config} not found (needed to create {path})')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(f'{path}.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be creating it
        if not _is_current(path):
            command = [sys.executable, '-m', 'mmseg.engine.toy_pretrain', config, path]
            if work_dir:
                command.append(work_dir)
            print(f'toy_pretrained: {path} missing or outdated; training {config} once '
                  '(a few minutes on CPU)', flush=True)
            subprocess.run(command, check=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
    return path
