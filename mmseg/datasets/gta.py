"""GTA5: ``images/*.png`` with ``labels/*_labelTrainIds.png``."""
from mmseg.registry import DATASETS
from .base_seg_dataset import CustomSegDataset


@DATASETS.register_module()
class GTADataset(CustomSegDataset):
    """GTA5 with Cityscapes classes (labels converted by
    ``tools/convert_datasets/gta.py``)."""

    def __init__(self, img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
