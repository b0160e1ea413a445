"""Batch collation of samples (docs/interfaces.md)."""
from typing import Any, List, Sequence

import torch

from mmseg.registry import FUNCTIONS


def _collate(values: List[Any], key: str) -> Any:
    first = values[0]
    if isinstance(first, torch.Tensor):
        shapes = {tuple(v.shape) for v in values}
        if len(shapes) > 1:
            raise ValueError(f'cannot batch {key!r}: tensors of different '
                             f'shapes {sorted(shapes)}')
        return torch.stack(values, dim=0)
    if isinstance(first, dict) and key.split('.')[-1] != 'img_metas':
        return {k: _collate([v[k] for v in values], f'{key}.{k}')
                for k in first}
    return list(values)


@FUNCTIONS.register_module()
def seg_collate(batch: Sequence[dict]) -> dict:
    """Stack tensors along a new batch dimension, turn ``img_metas`` (and
    other non-tensors) into lists and recurse into nested dicts (the
    ``source``/``target``/``prompt`` samples of ``UDADataset``)."""
    if not batch:
        raise ValueError('seg_collate got an empty batch')
    return {key: _collate([sample[key] for sample in batch], key)
            for key in batch[0]}
