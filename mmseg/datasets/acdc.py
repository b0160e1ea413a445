"""ACDC: all four adverse conditions or a subset of them.

Two layouts are read:

- as shipped: ``rgb_anon/<condition>/<subset>/<sequence>/*_rgb_anon.png``
  and ``gt/<condition>/<subset>/<sequence>/*_gt_labelTrainIds.png``;
- flattened (``tools/convert_datasets/acdc.py``): ``rgb_anon/<subset>/`` and
  ``gt/<subset>/``, all conditions together.

Give ``subset`` (``'train'``, ``'val'``, ``'test'``) and optionally
``condition`` (``'night'`` or a list) and the folders are found; or give
``img_dir``/``ann_dir`` explicitly as for any dataset.
"""
import os.path as osp
from typing import Optional, Sequence, Union

from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset

CONDITIONS = ('fog', 'night', 'rain', 'snow')


@DATASETS.register_module()
class ACDCDataset(CityscapesDataset):
    """ACDC; ``condition=None`` means all conditions. A condition filter needs
    the shipped layout (flat folders no longer say the condition). The test
    subset has no labels, so no ``ann_dir`` is set for it."""

    def __init__(self,
                 subset: Optional[str] = None,
                 condition: Optional[Union[str, Sequence[str]]] = None,
                 img_dir: Optional[str] = None,
                 ann_dir: Optional[str] = None,
                 data_root: Optional[str] = None,
                 img_suffix: str = '_rgb_anon.png',
                 seg_map_suffix: str = '_gt_labelTrainIds.png',
                 **kwargs) -> None:
        self.subset = subset
        self.conditions = self._parse_conditions(condition)
        self._nested = False
        if img_dir is None:
            img_dir, ann_dir = self._resolve_dirs(data_root or '', ann_dir)
        super().__init__(img_dir=img_dir, ann_dir=ann_dir,
                         data_root=data_root, img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)

    @staticmethod
    def _parse_conditions(condition) -> Optional[tuple]:
        if condition is None:
            return None
        conditions = (condition,) if isinstance(condition, str) else tuple(
            condition)
        unknown = [c for c in conditions if c not in CONDITIONS]
        if unknown:
            raise ValueError(f'ACDCDataset: unknown condition(s) {unknown}; '
                             f'choose from {CONDITIONS}')
        return conditions

    def _resolve_dirs(self, root: str, ann_dir: Optional[str]):
        if self.subset not in ('train', 'val', 'test'):
            raise ValueError('ACDCDataset needs img_dir or subset in '
                             f"('train', 'val', 'test'), got {self.subset!r}")
        flat = osp.join('rgb_anon', self.subset)
        with_labels = self.subset != 'test'
        if self.conditions is None and osp.isdir(osp.join(root, flat)):
            return flat, ann_dir or (osp.join('gt', self.subset)
                                     if with_labels else None)
        if self.conditions is not None and len(self.conditions) == 1:
            sub = osp.join(self.conditions[0], self.subset)
            return (osp.join('rgb_anon', sub), ann_dir or (
                osp.join('gt', sub) if with_labels else None))
        self._nested = True  # several conditions: filter rgb_anon/ below
        return 'rgb_anon', ann_dir or ('gt' if with_labels else None)

    def _accept(self, rel_path: str) -> bool:
        if not self._nested:
            return True
        parts = rel_path.split(osp.sep)
        return (len(parts) >= 3 and parts[1] == self.subset
                and (self.conditions is None or parts[0] in self.conditions))
