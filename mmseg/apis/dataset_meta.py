"""The class names and palette of a config: its test dataset's
(``classes``/``palette`` of the dataset class ``data.test.type`` names), the
one source of the class set."""
import colorsys
from typing import Any, Dict, List, Optional

from mmseg.config import ConfigError


def test_dataset_cfg(cfg: Any) -> Optional[dict]:
    """``data.test`` (else ``data.val``) as a dict; the ``target`` of a
    ``UDADataset``; None without a data section."""
    data = cfg.get('data') or {}
    dataset = data.get('test') or data.get('val')
    if dataset is None:
        return None
    dataset = dict(dataset)
    if dataset.get('type') == 'UDADataset':
        dataset = dict(dataset['target'])
    return dataset


def numbered_palette(num_classes: int) -> List[List[int]]:
    """``num_classes`` distinct RGB colours (hues around the circle)."""
    return [[int(255 * v) for v in colorsys.hsv_to_rgb(i / num_classes,
                                                        0.8, 0.9)]
            for i in range(num_classes)]


def dataset_meta(cfg: Any, num_classes: int) -> Dict[str, Any]:
    """``{'classes': tuple of names, 'palette': [[R, G, B], ...]}``.

    From the class of ``data.test.type``; a config without a data section
    gets ``class 0 .. class C-1`` and generated colours.

    Raises:
        ConfigError: the dataset's class count differs from the model's
            ``num_classes``.
    """
    from mmseg.registry import DATASETS
    dataset = test_dataset_cfg(cfg)
    cls = DATASETS.get(dataset['type']) if dataset and dataset.get(
        'type') else None
    if cls is None:
        return dict(classes=tuple(f'class {i}' for i in range(num_classes)),
                    palette=numbered_palette(num_classes))
    classes = tuple(cls.CLASSES)
    if len(classes) != num_classes:
        raise ConfigError(
            f'data.test.type={dataset["type"]} has {len(classes)} classes '
            f'but the model predicts {num_classes} (decode_head.num_classes)')
    return dict(classes=classes, palette=[list(c) for c in cls.PALETTE])
