"""The base segmentation dataset: a folder of images and of label maps.

Call graph of a sample::

    __getitem__(idx | (idx, seed))
      -> load_head(idx, rng)        # pre_pipeline() + transforms before the
      |                             # first RandomCrop; corrupt files skipped
      |                             # (training) or raised (test_mode)
      -> run_tail(results)          # RandomCrop ... PackSegInputs

Splitting the pipeline at the crop lets rare class sampling re-draw only the
crop on an already decoded image.
"""
import logging
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.dataset import Compose
from mmengine.logging import print_log
from torch.utils.data import Dataset

from mmseg.registry import DATASETS, TRANSFORMS
from .class_set import resolve_class_set
from .cityscapes_labels import CLASSES, PALETTE
from .transforms.crop import RandomCrop
from .transforms.loading import CorruptFileError, LoadImageFromFile, read_label
from .transforms.pseudo_mask import AddValidPseudoMask

Index = Union[int, Tuple[int, int]]
# file name endings taken for images when naming files a listing left out
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff',
                    '.webp', '.ppm', '.pgm')


def list_files(folder: str, suffix: str) -> List[str]:
    """Paths relative to ``folder`` of all files ending with ``suffix``,
    searched recursively (following symlinks), sorted."""
    found = []
    for root, _, files in os.walk(folder, followlinks=True):
        rel_root = osp.relpath(root, folder)
        for name in files:
            if name.endswith(suffix):
                found.append(name if rel_root == '.' else
                             osp.join(rel_root, name))
    return sorted(found)


def split_index(item: Index) -> Tuple[int, int]:
    """``idx`` -> ``(idx, idx)`` (a fixed per-index seed); pairs unchanged."""
    if isinstance(item, (tuple, list)):
        return int(item[0]), int(item[1])
    return int(item), int(item)


@DATASETS.register_module()
class CustomSegDataset(Dataset):
    """Images under ``img_dir`` (recursive, sorted) with label maps under
    ``ann_dir`` at the same relative path, ``img_suffix`` replaced by
    ``seg_map_suffix``.

    Args:
        pipeline: transform configs (built from ``TRANSFORMS``) or callables.
        img_dir, ann_dir: folders, joined to ``data_root`` when relative.
            Without ``ann_dir`` the samples carry no labels.
        split: optional text file of image stems (paths relative to
            ``img_dir`` without ``img_suffix``), one per line.
        test_mode: corrupt files raise instead of being skipped.
        crop_pseudo_margins: ``[top, bottom, left, right]``: add a
            ``valid_pseudo_mask`` (see :class:`AddValidPseudoMask`).
        max_load_failures: consecutive corrupt files tolerated in training.
        classes: class names, index = train id; default the class's
            ``CLASSES`` (the 19 Cityscapes classes). The one source of the
            class set: heads, metric, plots, legends and rare class
            sampling follow it.
        palette: one ``[R, G, B]`` per class; default the class's
            ``PALETTE`` when ``classes`` is not given, else
            :func:`default_palette`.

    Raises:
        ValueError: ``palette`` and ``classes`` differ in length, a colour
            is not three values in 0..255, or a class name repeats.
    """

    CLASSES: Tuple[str, ...] = CLASSES
    PALETTE: List[List[int]] = PALETTE

    def __init__(self,
                 pipeline: Sequence[Any],
                 img_dir: str,
                 ann_dir: Optional[str] = None,
                 img_suffix: str = '.jpg',
                 seg_map_suffix: str = '.png',
                 split: Optional[str] = None,
                 data_root: Optional[str] = None,
                 test_mode: bool = False,
                 ignore_index: int = 255,
                 crop_pseudo_margins: Optional[Sequence[int]] = None,
                 max_load_failures: int = 10,
                 classes: Optional[Sequence[str]] = None,
                 palette: Optional[Sequence[Sequence[int]]] = None) -> None:
        self.CLASSES, self.PALETTE = resolve_class_set(
            type(self).__name__, classes, palette,
            type(self).CLASSES, type(self).PALETTE)
        self.data_root = data_root
        self.img_dir = self._join_root(img_dir)
        self.ann_dir = self._join_root(ann_dir)
        self.split = self._join_root(split)
        self.img_suffix = img_suffix
        self.seg_map_suffix = seg_map_suffix
        self.test_mode = test_mode
        self.ignore_index = ignore_index
        self.crop_pseudo_margins = crop_pseudo_margins
        self.max_load_failures = max_load_failures
        self.skipped_files: List[str] = []
        self.img_infos = self.load_annotations()
        self._head, self._tail = self._build_pipeline(pipeline)

    # ---------------------------------------------------------- listing
    def _join_root(self, path: Optional[str]) -> Optional[str]:
        if path is None or self.data_root is None or osp.isabs(path):
            return path
        return osp.join(self.data_root, path)

    def _accept(self, rel_path: str) -> bool:
        """Hook for subclasses: keep this image (path relative to img_dir)?"""
        return True

    def _read_split(self) -> List[str]:
        if not osp.isfile(self.split):
            raise FileNotFoundError(
                f'{type(self).__name__}: split file not found: {self.split}')
        with open(self.split) as f:
            stems = [line.strip() for line in f if line.strip()]
        return [stem + self.img_suffix for stem in stems]

    def _list_images(self) -> List[str]:
        name = type(self).__name__
        if not osp.isdir(self.img_dir):
            raise FileNotFoundError(
                f'{name}: image folder not found: {self.img_dir}')
        if self.split is not None:
            images = self._read_split()
            for rel in images:
                if not osp.isfile(osp.join(self.img_dir, rel)):
                    raise FileNotFoundError(
                        f'{name}: image {osp.join(self.img_dir, rel)} listed '
                        f'in {self.split} does not exist')
        else:
            images = [rel for rel in list_files(self.img_dir, self.img_suffix)
                      if self._accept(rel)]
        if not images:
            raise FileNotFoundError(
                f'{name}: no image ending with {self.img_suffix!r} found in '
                f'{self.img_dir}' + (f' (split {self.split})'
                                     if self.split else ''))
        return images

    def unlisted_images(self) -> List[str]:
        """Image files under ``img_dir`` (by extension) left out of the
        listing because their name does not end with ``img_suffix``, as
        paths relative to ``img_dir`` (none with a ``split`` file, which
        chooses the images itself)."""
        if self.split is not None:
            return []
        return [rel for rel in list_files(self.img_dir, '')
                if rel.lower().endswith(IMAGE_EXTENSIONS)
                and not rel.endswith(self.img_suffix)]

    def seg_map_name(self, img_rel: str) -> str:
        """Relative label path of an image's relative path."""
        return img_rel[:len(img_rel) - len(self.img_suffix)] + \
            self.seg_map_suffix

    def load_annotations(self) -> List[Dict[str, Optional[str]]]:
        """``[{'filename': rel, 'seg_map': rel or None}]``, checking that
        every image has its label file."""
        images = self._list_images()
        if self.ann_dir is not None and not osp.isdir(self.ann_dir):
            raise FileNotFoundError(f'{type(self).__name__}: label folder '
                                    f'not found: {self.ann_dir}')
        infos = []
        for rel in images:
            seg = None
            if self.ann_dir is not None:
                seg = self.seg_map_name(rel)
                if not osp.isfile(osp.join(self.ann_dir, seg)):
                    raise FileNotFoundError(
                        f'label file {osp.join(self.ann_dir, seg)} missing '
                        f'for image {osp.join(self.img_dir, rel)}')
            infos.append({'filename': rel, 'seg_map': seg})
        return infos

    # ---------------------------------------------------------- pipeline
    def _build_pipeline(self, pipeline: Sequence[Any]):
        transforms = [TRANSFORMS.build(t) if isinstance(t, dict) else t
                      for t in pipeline]
        if self.crop_pseudo_margins is not None:
            loads = [i for i, t in enumerate(transforms)
                     if isinstance(t, LoadImageFromFile)]
            if not loads:
                raise ValueError(
                    f'{type(self).__name__}: crop_pseudo_margins needs a '
                    'LoadImageFromFile transform in the pipeline')
            transforms.insert(loads[0] + 1,
                              AddValidPseudoMask(self.crop_pseudo_margins))
        crops = [i for i, t in enumerate(transforms)
                 if isinstance(t, RandomCrop)]
        cut = crops[0] if crops else len(transforms)
        return Compose(transforms[:cut]), Compose(transforms[cut:])

    @property
    def num_classes(self) -> int:
        return len(self.CLASSES)

    @property
    def metainfo(self) -> dict:
        return dict(classes=tuple(self.CLASSES),
                    palette=[list(c) for c in self.PALETTE])

    def img_path(self, idx: int) -> str:
        return osp.join(self.img_dir, self.img_infos[idx]['filename'])

    def seg_map_path(self, idx: int) -> Optional[str]:
        seg = self.img_infos[idx]['seg_map']
        return None if seg is None else osp.join(self.ann_dir, seg)

    def get_gt_seg_map_by_idx(self, idx: int) -> np.ndarray:
        """The label map of sample ``idx`` at its original size."""
        path = self.seg_map_path(idx)
        if path is None:
            raise ValueError(f'{type(self).__name__} has no ann_dir: no '
                             f'label for {self.img_path(idx)}')
        return read_label(path)

    def pre_pipeline(self, idx: int, rng: np.random.Generator) -> dict:
        return dict(
            filename=self.img_path(idx),
            ori_filename=self.img_infos[idx]['filename'],
            seg_map_path=self.seg_map_path(idx),
            seg_fields=[],
            rng=rng,
            ignore_index=self.ignore_index,
            num_classes=self.num_classes,
            sample_idx=idx)

    def load_head(self, idx: int, rng: np.random.Generator) -> dict:
        """Run the transforms before the crop. In training a corrupt file is
        logged, recorded in ``skipped_files`` and replaced by another sample
        drawn from ``rng``; ``max_load_failures`` in a row raise."""
        for _ in range(self.max_load_failures + 1):
            try:
                return self._head(self.pre_pipeline(idx, rng))
            except (CorruptFileError, FileNotFoundError) as err:
                if self.test_mode:
                    raise
                self._record_skip(err)
                idx = int(rng.integers(len(self)))
        raise RuntimeError(
            f'{type(self).__name__}: {self.max_load_failures + 1} corrupt or '
            f'missing files in a row, last: {self.skipped_files[-1]}')

    def _record_skip(self, err: Exception) -> None:
        self.skipped_files.append(getattr(err, 'bad_file', str(err)))
        print_log(f'skipping unreadable sample: {err} '
                  f'({len(self.skipped_files)} skipped so far)',
                  logger='current', level=logging.WARNING)

    def run_tail(self, results: dict) -> dict:
        """Run the crop and the transforms after it (PackSegInputs)."""
        return self._tail(results)

    def __len__(self) -> int:
        return len(self.img_infos)

    def __getitem__(self, item: Index) -> dict:
        idx, seed = split_index(item)
        if idx < 0:
            idx += len(self)
        if not 0 <= idx < len(self):
            raise IndexError(f'index {idx} out of range ({len(self)})')
        rng = np.random.default_rng(seed)
        return self.run_tail(self.load_head(idx, rng))
