"""NightCity (and the NightCity+ val labels): ``img/<split>/X.png`` with
``gt/<split>/X_labelTrainIds.png`` (from ``tools/convert_datasets/
nightcity.py``)."""
from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class NightCityDataset(CityscapesDataset):
    """NightCity; for NightCity+ point ``ann_dir`` at its converted val
    labels."""

    def __init__(self, img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
