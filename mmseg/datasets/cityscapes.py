"""Cityscapes: ``leftImg8bit/<split>/<city>/*_leftImg8bit.png`` with
``gtFine/<split>/<city>/*_gtFine_labelTrainIds.png``."""
from mmseg.registry import DATASETS
from .base_seg_dataset import CustomSegDataset


@DATASETS.register_module()
class CityscapesDataset(CustomSegDataset):
    """Cityscapes with the 19 train-id classes (see ``cityscapes_labels``)."""

    def __init__(self, img_suffix: str = '_leftImg8bit.png',
                 seg_map_suffix: str = '_gtFine_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
