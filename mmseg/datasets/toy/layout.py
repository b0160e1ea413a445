"""On-disk file names of the toy set (Cityscapes, Dark Zurich and prompt layouts).

Layout under ``out_dir``::

    cityscapes/leftImg8bit/{train,val}/<city>/<city>_000000_<NNNNNN>_leftImg8bit.png
    cityscapes/gtFine/{train,val}/<city>/<city>_000000_<NNNNNN>_gtFine_labelTrainIds.png
    cityscapes/gtFine/{train,val}/<city>/<city>_000000_<NNNNNN>_gtFine_labelIds.png
    cityscapes/{sample_class_stats,sample_class_stats_dict,samples_with_class}.json
    dark_zurich/rgb_anon/{train,val,test}/night/<SEQ>/<SEQ>_frame_<NNNNNN>_rgb_anon.png
    dark_zurich/gt/val/night/<SEQ>/<SEQ>_frame_<NNNNNN>_gt_labelTrainIds.png
    night_oracle/rgb_anon/train/night/<SEQ>/<SEQ>_frame_<NNNNNN>_rgb_anon.png
    night_oracle/gt/train/night/<SEQ>/<SEQ>_frame_<NNNNNN>_gt_labelTrainIds.png
        (labelled night train scenes for the night oracle only; no UDA config reads them)
    prompt/img/<name>.png, prompt/gt/<name>_labelTrainIds.png
    TOY_DATASET_COMPLETE.json   (written last; its presence means the set is complete)

Paths inside the statistics files are relative to the ``cityscapes`` folder.
"""
import os.path as osp
from typing import Tuple

MARKER_FILE = 'TOY_DATASET_COMPLETE.json'
SOURCE_CITIES = {'train': ('aachen', 'bremen', 'zurich'), 'val': ('frankfurt', 'lindau')}
TARGET_SEQUENCES = {'train': ('GOPR0351', 'GOPR0354', 'GOPR0356'), 'val': ('GOPR0356',),
                    'test': ('GOPR0355',)}
ORACLE_SEQUENCES = ('GOPR0357', 'GOPR0358')


def _source_paths(root: str, subset: str, index: int) -> Tuple[str, str]:
    cities = SOURCE_CITIES[subset]
    city = cities[index % len(cities)]
    stem = f'{city}_000000_{index // len(cities):06d}'
    return (osp.join(root, 'leftImg8bit', subset, city, f'{stem}_leftImg8bit.png'),
            osp.join(root, 'gtFine', subset, city, f'{stem}_gtFine_labelTrainIds.png'))


def _target_paths(root: str, subset: str, index: int,
                  sequences: Tuple[str, ...] = ()) -> Tuple[str, str]:
    sequences = sequences or TARGET_SEQUENCES[subset]
    seq = sequences[index % len(sequences)]
    stem = f'{seq}_frame_{index // len(sequences):06d}'
    return (osp.join(root, 'rgb_anon', subset, 'night', seq, f'{stem}_rgb_anon.png'),
            osp.join(root, 'gt', subset, 'night', seq, f'{stem}_gt_labelTrainIds.png'))


def _oracle_paths(root: str, index: int) -> Tuple[str, str]:
    return _target_paths(root, 'train', index, ORACLE_SEQUENCES)


def _prompt_paths(root: str, index: int) -> Tuple[str, str]:
    name = f'night_prompt_{index:04d}'
    return (osp.join(root, 'img', f'{name}.png'), osp.join(root, 'gt', f'{name}_labelTrainIds.png'))
