"""Packing of a pipeline's result into the sample of docs/interfaces.md."""
from typing import Sequence

import numpy as np
import torch

from mmseg.registry import TRANSFORMS

META_KEYS = ('filename', 'ori_filename', 'ori_shape', 'img_shape',
             'pad_shape', 'scale_factor', 'flip', 'flip_direction',
             'img_norm_cfg', 'seg_map_path')


@TRANSFORMS.register_module()
class PackSegInputs:
    """Return ``{'img', 'img_metas'[, 'gt_semantic_seg',
    'valid_pseudo_mask', 'seco_label']}``: img float32 [3, H, W], labels
    int64 [1, H, W],
    the mask uint8 [1, H, W]. The rng and other working keys are dropped."""

    def __init__(self, meta_keys: Sequence[str] = META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def __call__(self, results: dict) -> dict:
        img = np.ascontiguousarray(results['img'].transpose(2, 0, 1))
        sample = {'img': torch.from_numpy(img.astype(np.float32, copy=False))}
        if 'gt_semantic_seg' in results:
            seg = np.ascontiguousarray(results['gt_semantic_seg'][None])
            sample['gt_semantic_seg'] = torch.from_numpy(seg.astype(np.int64))
        if 'seco_label' in results:
            seco = np.ascontiguousarray(results['seco_label'][None])
            sample['seco_label'] = torch.from_numpy(seco.astype(np.int64))
        if 'valid_pseudo_mask' in results:
            mask = np.ascontiguousarray(results['valid_pseudo_mask'][None])
            sample['valid_pseudo_mask'] = torch.from_numpy(
                mask.astype(np.uint8))
        metas = {key: results.get(key) for key in self.meta_keys}
        metas.setdefault('flip', False)
        if metas.get('flip') is None:
            metas['flip'] = False
        sample['img_metas'] = metas
        return sample
