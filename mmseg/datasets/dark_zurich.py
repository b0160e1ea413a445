"""Dark Zurich: ``rgb_anon/<split>/<condition>/<seq>/*_rgb_anon.png`` with
``gt/val/night/<seq>/*_gt_labelTrainIds.png`` (val only; test via server)."""
from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class DarkZurichDataset(CityscapesDataset):
    """Dark Zurich; e.g. night train ``img_dir='rgb_anon/train/night'``."""

    def __init__(self, img_suffix: str = '_rgb_anon.png',
                 seg_map_suffix: str = '_gt_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
