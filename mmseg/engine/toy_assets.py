"""Files a toy config generates on first use: ``toy_data`` (the data set) and
``toy_pretrained`` (the stand-in for ImageNet weights)."""
from typing import Iterable

from mmseg.engine.config_loader import ConfigError


def _check_keys(given: Iterable[str], known: Iterable[str], key: str, cfg) -> None:
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f'{key}: unknown key(s) {", ".join(unknown)}; known: '
                          f'{", ".join(sorted(known))} (config {cfg.filename})')


def prepare_toy_assets(cfg) -> None:
    """Generate the toy data set and the toy pretrained backbone a config names."""
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
