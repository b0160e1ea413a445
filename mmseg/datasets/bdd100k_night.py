"""BDD100k-night: the 87 night images of the BDD100K 10k segmentation set
listed in a text file (e.g. ``images_trainval_night_correct_filenames.txt``).
"""
import os.path as osp
from typing import List

from mmseg.registry import DATASETS
from .cityscapes import CityscapesDataset


@DATASETS.register_module()
class BDD100kNightDataset(CityscapesDataset):
    """``images/10k/{train,val}/*.jpg`` with ``labels/sem_seg/masks/
    {train,val}/*.png``, restricted to the names in ``split``.

    Lines of the list may be paths relative to ``data_root``
    (``images/10k/train/x.jpg``) or to ``img_dir`` (``train/x.jpg``), with or
    without ``img_suffix``.
    """

    def __init__(self, img_dir: str = 'images/10k',
                 ann_dir: str = 'labels/sem_seg/masks',
                 img_suffix: str = '.jpg', seg_map_suffix: str = '.png',
                 split: str = 'images_trainval_night_correct_filenames.txt',
                 **kwargs) -> None:
        super().__init__(img_dir=img_dir, ann_dir=ann_dir,
                         img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, split=split, **kwargs)

    def _read_split(self) -> List[str]:
        if not osp.isfile(self.split):
            raise FileNotFoundError(
                f'{type(self).__name__}: night list not found: {self.split}')
        prefix = osp.relpath(self.img_dir, self.data_root or '.') + '/'
        names = []
        with open(self.split) as f:
            for line in f:
                name = line.strip()
                if not name:
                    continue
                if name.startswith(prefix):
                    name = name[len(prefix):]
                if not name.endswith(self.img_suffix):
                    name += self.img_suffix
                names.append(name)
        return names
