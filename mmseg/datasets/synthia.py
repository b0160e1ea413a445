"""SYNTHIA-RAND-CITYSCAPES: ``RGB/*.png`` with
``GT/LABELS/*_labelTrainIds.png``."""
from mmseg.registry import DATASETS
from .base_seg_dataset import CustomSegDataset

# Train ids that SYNTHIA never labels (terrain, truck, train): the 16-class
# protocol drops them; the 13-class one also drops wall, fence and pole.
SYNTHIA_ABSENT_CLASSES = (9, 14, 16)
SYNTHIA_16_CLASSES = tuple(c for c in range(19)
                           if c not in SYNTHIA_ABSENT_CLASSES)
SYNTHIA_13_CLASSES = tuple(c for c in SYNTHIA_16_CLASSES
                           if c not in (3, 4, 5))


@DATASETS.register_module()
class SynthiaDataset(CustomSegDataset):
    """SYNTHIA with Cityscapes classes (labels converted by
    ``tools/convert_datasets/synthia.py``)."""

    def __init__(self, img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
