"""Nighttime Driving test set (50 images, coarse labels)."""
from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class NighttimeDrivingDataset(CityscapesDataset):
    """``leftImg8bit/test/night/*_leftImg8bit.png`` with
    ``gtCoarse_daytime_trainvaltest/test/night/*_gtCoarse_labelTrainIds.png``
    (the defaults, relative to ``data_root``)."""

    def __init__(self, img_dir: str = 'leftImg8bit/test/night',
                 ann_dir: str = 'gtCoarse_daytime_trainvaltest/test/night',
                 img_suffix: str = '_leftImg8bit.png',
                 seg_map_suffix: str = '_gtCoarse_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_dir=img_dir, ann_dir=ann_dir,
                         img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
