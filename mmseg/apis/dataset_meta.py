"""The class names and palette of a config: its test dataset's
(``classes``/``palette`` of the dataset class ``data.test.type`` names), the
one source of the class set."""
from typing import Any, Dict, Optional

from mmseg.datasets.class_set import default_palette, resolve_class_set
from mmseg.errors import ConfigError


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


def dataset_meta(cfg: Any, num_classes: int) -> Dict[str, Any]:
    """``{'classes': tuple of names, 'palette': [[R, G, B], ...]}``.

    The ``classes``/``palette`` the test dataset's config gives, else those
    of the class ``data.test.type`` names; a config without a data section
    gets ``class 0 .. class C-1`` and generated colours.

    Raises:
        ConfigError: the dataset's class count differs from the model's
            ``num_classes``, or its class set is malformed.
    """
    from mmseg.registry import DATASETS
    dataset = test_dataset_cfg(cfg)
    cls = DATASETS.get(dataset['type']) if dataset and dataset.get(
        'type') else None
    if cls is None:
        return dict(classes=tuple(f'class {i}' for i in range(num_classes)),
                    palette=default_palette(num_classes))
    try:
        classes, palette = resolve_class_set(
            f'data.test ({dataset["type"]})', dataset.get('classes'),
            dataset.get('palette'), cls.CLASSES, cls.PALETTE)
    except ValueError as err:
        raise ConfigError(str(err)) from None
    if len(classes) != num_classes:
        raise ConfigError(
            f'data.test ({dataset["type"]}) has {len(classes)} classes '
            f'but the model predicts {num_classes} (decode_head.num_classes)')
    return dict(classes=classes, palette=palette)
