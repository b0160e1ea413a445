"""SYNTHIA-RAND-CITYSCAPES: ``RGB/*.png`` with
``GT/LABELS/*_labelTrainIds.png``."""
from mmseg.registry import DATASETS
from .base_seg_dataset import CustomSegDataset
from .cityscapes_labels import CLASSES

# Classes that SYNTHIA never labels (terrain, truck, train): the 16-class
# protocol drops them; the 13-class one also drops wall, fence and pole.
# Named, so that the subsets follow the dataset's class set.
SYNTHIA_ABSENT_NAMES = ('terrain', 'truck', 'train')
SYNTHIA_13_DROPPED_NAMES = ('wall', 'fence', 'pole')
SYNTHIA_16_NAMES = tuple(c for c in CLASSES if c not in SYNTHIA_ABSENT_NAMES)
SYNTHIA_13_NAMES = tuple(c for c in SYNTHIA_16_NAMES
                         if c not in SYNTHIA_13_DROPPED_NAMES)
# The same as Cityscapes train ids.
SYNTHIA_ABSENT_CLASSES = tuple(CLASSES.index(c) for c in SYNTHIA_ABSENT_NAMES)
SYNTHIA_16_CLASSES = tuple(CLASSES.index(c) for c in SYNTHIA_16_NAMES)
SYNTHIA_13_CLASSES = tuple(CLASSES.index(c) for c in SYNTHIA_13_NAMES)


@DATASETS.register_module()
class SynthiaDataset(CustomSegDataset):
    """SYNTHIA with Cityscapes classes (labels converted by
    ``tools/convert_datasets/synthia.py``)."""

    def __init__(self, img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
