"""Names for result tables: which split was evaluated, with which network.

``split_name(dict(type='DarkZurichDataset', img_dir='rgb_anon/val/night'))``
is ``'DarkZurich night val'``; ``eval_title`` adds the deployed network
(``uda.test_model``), e.g. ``'DarkZurich night val, student'``. Every metric
table says its split this way: the numbers of tools/test.py and of the
validation during training are val-split numbers unless ``--test-set``
evaluates a labelled test split; the papers' Dark Zurich and ACDC numbers
are test-server (test split) numbers.
"""
import os.path as osp
from typing import Any, List, Mapping, Optional

SPLITS = ('train', 'val', 'test')
CONDITIONS = ('night', 'day', 'twilight', 'fog', 'rain', 'snow')


def _parts(dataset_cfg: Mapping[str, Any]) -> List[str]:
    return [p for p in osp.normpath(str(dataset_cfg.get('img_dir') or ''))
            .split(osp.sep) if p and p != '.']


def split_of(dataset_cfg: Mapping[str, Any],
             default: Optional[str] = None) -> Optional[str]:
    """The split a dataset config reads: ACDC's ``subset``, else the last
    split word (train/val/test) of ``img_dir``, else ``default``."""
    if dataset_cfg.get('subset'):
        return str(dataset_cfg['subset'])
    splits = [p for p in _parts(dataset_cfg) if p in SPLITS]
    return splits[-1] if splits else default


def split_name(dataset_cfg: Mapping[str, Any],
               default_split: Optional[str] = None) -> str:
    """``'<dataset> [conditions] <split>'`` from a dataset config: the
    condition and split words of ``img_dir``, or ACDC's ``condition`` and
    ``subset``. Unknown layouts fall back to the dataset name and ``img_dir``
    followed by ``default_split`` (what the caller knows the config key to
    hold, e.g. ``'val'`` for ``data.val``) when given."""
    name = str(dataset_cfg.get('type', 'dataset'))
    name = name[:-len('Dataset')] if name.endswith('Dataset') else name
    parts = _parts(dataset_cfg)
    condition = dataset_cfg.get('condition')
    conditions = ([condition] if isinstance(condition, str) else
                  list(condition or [])) + [p for p in parts if p in CONDITIONS]
    subset = dataset_cfg.get('subset')
    splits = [subset] if subset else [p for p in parts if p in SPLITS]
    if not conditions and not splits:
        return ' '.join(w for w in (name, '/'.join(parts), default_split)
                        if w)
    if not splits and default_split:
        splits = [default_split]
    return ' '.join([name, *dict.fromkeys(conditions), *splits])


def deployed_network(cfg: Mapping[str, Any]) -> str:
    """The network a config evaluates: ``uda.test_model`` (default
    ``'student'``) for a UDA config, else ``'segmentor'``."""
    uda = cfg.get('uda')
    if not uda:
        return 'segmentor'
    return str(uda.get('test_model') or 'student')


def eval_title(dataset_cfg: Mapping[str, Any],
               network: Optional[str] = None,
               default_split: Optional[str] = None) -> str:
    """``'<split name>, <network>'`` (network left out when None);
    ``default_split`` as in :func:`split_name`."""
    split = split_name(dataset_cfg, default_split)
    return f'{split}, {network}' if network else split
