"""Source/target(/prompt) pairing for UDA, with rare class sampling.

Call graph::

    __getitem__((idx, seed))
      four child generators of default_rng(seed):
      -> _source_sample(idx, rng)    # plain, or RCS: draw (class, file),
      |                              # decode once, re-draw only the crop
      -> _draw_from(target, rng)     # uniform index, drawn seed
      -> _draw_from(prompt, rng)     # (when configured)
      -> _sync_crop(source, target, rng)               (sync_crop_size)
"""
import copy
from typing import Optional, Sequence

import numpy as np

from mmseg.registry import DATASETS
from .base_seg_dataset import Index, split_index
from .class_stats import ClassStatsError, stats_file_key
from .rare_class_sampling import RareClassSampler
from .transforms.crop import RandomCrop, random_crop_box

SYNC_CROP_KEYS = ('img', 'gt_semantic_seg', 'valid_pseudo_mask')


def _build(cfg):
    return DATASETS.build(cfg) if isinstance(cfg, dict) else cfg


def _copy_results(results: dict) -> dict:
    """Copy a pipeline state so a re-run cannot change the original (arrays
    are shared: transforms return new arrays rather than writing in place).
    """
    out = dict(results)
    out['seg_fields'] = list(results.get('seg_fields', []))
    return out


@DATASETS.register_module()
class UDADataset:
    """Labelled source samples paired with unlabelled target samples.

    Returns ``{'source': sample, 'target': sample[, 'prompt': sample]}``.
    ``len()`` is the source length, so an "epoch" is one pass over source
    indices; the target (and prompt) index is drawn uniformly from the
    per-sample rng. With rare class sampling the source index comes from the
    sampler and the given index only seeds the draw.

    Args:
        source, target, prompt: dataset configs (or datasets). A prompt
            config without ``pipeline`` uses the source pipeline (labelled
            night images are prepared like the labelled day images).
        rare_class_sampling: ``dict(class_temp, min_pixels, min_crop_ratio
            [, stats_dir])``; ``stats_dir`` defaults to the source data root;
            ``min_pixels`` below 1 is a fraction of the source crop.
        sync_crop_size: ``(h, w)``: crop the same window from source and
            target after their pipelines.
    """

    MAX_CROP_REDRAWS = 10

    def __init__(self, source, target, prompt=None,
                 rare_class_sampling: Optional[dict] = None,
                 sync_crop_size: Optional[Sequence[int]] = None) -> None:
        self.source = _build(source)
        self.target = _build(target)
        if (isinstance(prompt, dict) and prompt.get('pipeline') is None
                and isinstance(source, dict)):
            prompt = dict(prompt, pipeline=copy.deepcopy(source['pipeline']))
        self.prompt = _build(prompt) if prompt is not None else None
        self._check_compatible()
        self.sync_crop_size = sync_crop_size
        self.rcs = self._build_rcs(rare_class_sampling)

    def _check_compatible(self) -> None:
        others = [('target', self.target), ('prompt', self.prompt)]
        for name, ds in others:
            if ds is None:
                continue
            if ds.metainfo != self.source.metainfo:
                raise ValueError(f'UDADataset: {name} classes/palette differ '
                                 'from the source dataset')
            if ds.ignore_index != self.source.ignore_index:
                raise ValueError(f'UDADataset: {name} ignore_index differs '
                                 'from the source dataset')

    def _build_rcs(self, cfg: Optional[dict]) -> Optional[RareClassSampler]:
        if not cfg:
            return None
        cfg = dict(cfg)
        stats_dir = cfg.pop('stats_dir', None) or self.source.data_root
        if stats_dir is None:
            raise ValueError('rare_class_sampling needs stats_dir or a '
                             'source data_root holding the stats files')
        file_to_idx = {}
        for i, info in enumerate(self.source.img_infos):
            if info['seg_map'] is None:
                continue
            name = stats_file_key(info['seg_map'])
            if name in file_to_idx:
                other = self.source.img_infos[file_to_idx[name]]['seg_map']
                raise ClassStatsError(
                    'rare class sampling matches stats to labels by file '
                    f"name, but {other} and {info['seg_map']} share {name!r}")
            file_to_idx[name] = i
        return RareClassSampler(stats_dir, file_to_idx,
                                crop_pixels=self._source_crop_pixels(),
                                **cfg)

    def _source_crop_pixels(self) -> Optional[int]:
        """``h * w`` of the source pipeline's RandomCrop (None without)."""
        tail = getattr(getattr(self.source, '_tail', None), 'transforms', [])
        if tail and isinstance(tail[0], RandomCrop):
            return tail[0].crop_size[0] * tail[0].crop_size[1]
        return None

    @property
    def metainfo(self) -> dict:
        return self.source.metainfo

    @property
    def ignore_index(self) -> int:
        return self.source.ignore_index

    def __len__(self) -> int:
        return len(self.source)

    def _source_sample(self, idx: int, rng: np.random.Generator) -> dict:
        if self.rcs is None:
            return self.source[(idx, int(rng.integers(2**63)))]
        cls, idx = self.rcs.draw(rng)
        head = self.source.load_head(idx, rng)
        sample = self.source.run_tail(_copy_results(head))
        if self.rcs.min_crop_ratio <= 0:
            return sample
        for _ in range(self.MAX_CROP_REDRAWS):
            if int((sample['gt_semantic_seg'] == cls).sum()) > \
                    self.rcs.min_crop_pixels:
                break
            sample = self.source.run_tail(_copy_results(head))
        return sample

    def _sync_crop(self, samples: Sequence[dict],
                   rng: np.random.Generator) -> None:
        hw = samples[0]['img'].shape[1:]
        y1, y2, x1, x2 = random_crop_box(hw, self.sync_crop_size, rng)
        for sample in samples:
            for key in SYNC_CROP_KEYS:
                if key in sample:
                    sample[key] = sample[key][:, y1:y2, x1:x2]
            metas = sample['img_metas'] = copy.copy(sample['img_metas'])
            metas['img_shape'] = tuple(sample['img'].shape[1:]) + (3,)

    def __getitem__(self, item: Index) -> dict:
        idx, seed = split_index(item)
        src_rng, tgt_rng, prompt_rng, crop_rng = np.random.default_rng(
            seed).spawn(4)
        out = {'source': self._source_sample(idx, src_rng),
               'target': self._draw_from(self.target, tgt_rng)}
        if self.prompt is not None:
            out['prompt'] = self._draw_from(self.prompt, prompt_rng)
        if self.sync_crop_size is not None:
            self._sync_crop([out['source'], out['target']], crop_rng)
        return out

    @staticmethod
    def _draw_from(dataset, rng: np.random.Generator) -> dict:
        idx = int(rng.integers(len(dataset)))
        return dataset[(idx, int(rng.integers(2**63)))]
