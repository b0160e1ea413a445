"""Names for result tables: which split was evaluated, with which network.

``split_name(dict(type='DarkZurichDataset', img_dir='rgb_anon/val/night'))``
is ``'DarkZurich night val'``; ``eval_title`` adds the deployed network
(``uda.test_model``), e.g. ``'DarkZurich night val, student'``.
"""
import os.path as osp
from typing import Any, Mapping, Optional

SPLITS = ('train', 'val', 'test')
CONDITIONS = ('night', 'day', 'twilight', 'fog', 'rain', 'snow')


def split_name(dataset_cfg: Mapping[str, Any]) -> str:
    """``'<dataset> [conditions] <split>'`` from a dataset config: the
    condition and split words of ``img_dir``, or ACDC's ``condition`` and
    ``subset``. Unknown layouts fall back to the dataset name and ``img_dir``."""
    name = str(dataset_cfg.get('type', 'dataset'))
    name = name[:-len('Dataset')] if name.endswith('Dataset') else name
    parts = [p for p in osp.normpath(str(dataset_cfg.get('img_dir') or ''))
             .split(osp.sep) if p and p != '.']
    condition = dataset_cfg.get('condition')
    conditions = ([condition] if isinstance(condition, str) else
                  list(condition or [])) + [p for p in parts if p in CONDITIONS]
    subset = dataset_cfg.get('subset')
    splits = [subset] if subset else [p for p in parts if p in SPLITS]
    if not conditions and not splits:
        return f'{name} {"/".join(parts)}'.strip()
    return ' '.join([name, *dict.fromkeys(conditions), *splits])


def deployed_network(cfg: Mapping[str, Any]) -> str:
    """The network a config evaluates: ``uda.test_model`` (default
    ``'student'``) for a UDA config, else ``'segmentor'``."""
    uda = cfg.get('uda')
    if not uda:
        return 'segmentor'
    return str(uda.get('test_model') or 'student')


def eval_title(dataset_cfg: Mapping[str, Any],
               network: Optional[str] = None) -> str:
    """``'<split name>, <network>'`` (network left out when None)."""
    split = split_name(dataset_cfg)
    return f'{split}, {network}' if network else split
