"""The class set of a config, checked against the model and the UDA parts.

The training dataset's ``classes`` (``data.train.source.classes`` for UDA,
else ``data.train.classes``, else the dataset class's ``CLASSES``) is the
one source of the class set. Before anything is built:

- every head's ``num_classes`` must equal its length, and the val/test
  datasets must name the same classes (:class:`ConfigError` naming both
  keys and values otherwise);
- in the ``uda`` section, a part that takes ``num_classes`` gets it when the
  config leaves it out; class lists (``imnet_feature_dist_classes``,
  ``classes``, ``exempt``, ``boost_classes``) and GroupedClassMix's
  ``groups`` rules may name classes instead of train ids and are turned
  into train ids; a class list left at its
  Cityscapes default is refused for another class set.
"""
import inspect
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mmseg.datasets.cityscapes_labels import CLASSES as CITYSCAPES_CLASSES
from mmseg.errors import ConfigError

# UDA keys that hold a list of classes (names or train ids).
CLASS_LIST_KEYS = ('imnet_feature_dist_classes', 'classes', 'exempt',
                   'boost_classes')
# UDA keys that hold class rules ``[dict(when=[...], add=[...]), ...]``
# (GroupedClassMix's co-occurrence groups), names or train ids.
CLASS_RULE_KEYS = ('groups', )
HEAD_KEYS = ('decode_head', 'auxiliary_head')
# Sub-configs built without a ``type`` (key -> the class that builds them).
UNTYPED_PARTS = ('similarity',)


def _untyped_part(key: str) -> Any:
    """The class FIS/DMS build an untyped ``similarity`` dict with (found
    through FIS's module, wherever the method's files live)."""
    if key == 'similarity':
        import sys
        from mmseg.registry import MODELS
        from mmseg.utils import register_all_modules
        register_all_modules()
        fis = MODELS.get('FIS')
        return getattr(sys.modules[fis.__module__], 'ClassSimilarity', None) \
            if fis is not None else None
    return None


def _dataset_classes(ds_cfg: Dict, key: str) -> Tuple[Tuple[str, ...], str]:
    """``(classes, where)`` of one dataset config."""
    if ds_cfg.get('classes') is not None:
        return tuple(str(c) for c in ds_cfg['classes']), f'{key}.classes'
    from mmseg.registry import DATASETS
    from mmseg.utils import register_all_modules
    register_all_modules()
    ds_type = ds_cfg.get('type')
    cls = DATASETS.get(ds_type) if isinstance(ds_type, str) else ds_type
    if cls is None or not hasattr(cls, 'CLASSES'):
        return tuple(CITYSCAPES_CLASSES), f'{key} (default classes)'
    return tuple(cls.CLASSES), f'{key} ({getattr(cls, "__name__", ds_type)})'


def _train_dataset(cfg) -> Tuple[Optional[Dict], str]:
    data = cfg.get('data') or {}
    train = data.get('train')
    if not isinstance(train, dict):
        return None, ''
    if train.get('type') == 'UDADataset' or 'source' in train:
        return train.get('source'), 'data.train.source'
    return train, 'data.train'


def config_classes(cfg) -> Tuple[Tuple[str, ...], str]:
    """The class names of ``cfg`` and the key they come from.

    Raises:
        ConfigError: a val/test/target/prompt dataset names other classes.
    """
    train, key = _train_dataset(cfg)
    if train is None:
        data = cfg.get('data') or {}
        test = data.get('test') or data.get('val')
        if not isinstance(test, dict):
            return tuple(CITYSCAPES_CLASSES), 'the default classes'
        return _dataset_classes(test, 'data.test')
    classes, where = _dataset_classes(train, key)
    data = cfg.get('data') or {}
    others = [(f'data.train.{k}', data['train'].get(k))
              for k in ('target', 'prompt')]
    others += [(f'data.{k}', data.get(k)) for k in ('val', 'test',
                                                    'test_set')]
    for other_key, ds in others:
        if not isinstance(ds, dict) or 'type' not in ds and \
                'classes' not in ds:
            continue
        other, other_where = _dataset_classes(ds, other_key)
        if other != classes:
            raise ConfigError(
                f'{other_where} has {len(other)} classes {_short(other)} but '
                f'{where} has {len(classes)} {_short(classes)}; give every '
                'dataset the same classes (e.g. classes=classes)')
    return classes, where


def _short(names: Sequence[str], limit: int = 6) -> str:
    shown = ', '.join(repr(n) for n in names[:limit])
    return f'({shown}{", ..." if len(names) > limit else ""})'


def check_head_classes(model: Dict, classes: Sequence[str], where: str,
                       prefix: str = 'model') -> None:
    """Every head's ``num_classes`` equals ``len(classes)``.

    Raises:
        ConfigError: (one line) ``model.decode_head.num_classes=19 but
            data.train.source.classes has 5 classes (...)``.
    """
    for head_key in HEAD_KEYS:
        heads = model.get(head_key)
        if heads is None:
            continue
        items = heads if isinstance(heads, (list, tuple)) else [heads]
        for i, head in enumerate(items):
            if not isinstance(head, dict) or 'num_classes' not in head:
                continue
            name = f'{prefix}.{head_key}' + (
                f'[{i}]' if isinstance(heads, (list, tuple)) else '')
            if int(head['num_classes']) != len(classes):
                raise ConfigError(
                    f'{name}.num_classes={head["num_classes"]} but {where} '
                    f'has {len(classes)} classes {_short(classes)}; set '
                    f'{name}.num_classes={len(classes)}')


def _class_ids(value: Any, classes: Sequence[str], key: str) -> List[int]:
    """Names or train ids -> train ids (checked)."""
    if isinstance(value, str):
        value = [value]
    ids = []
    for item in value:
        if isinstance(item, str):
            if item not in classes:
                raise ConfigError(f'{key}: no class named {item!r} in '
                                  f'{_short(classes, 30)}')
            ids.append(classes.index(item))
        else:
            if not 0 <= int(item) < len(classes):
                raise ConfigError(f'{key}: train id {item} outside '
                                  f'0..{len(classes) - 1}')
            ids.append(int(item))
    return ids


def _class_rule(rule: Any, classes: Sequence[str], key: str) -> Any:
    """``dict(when=..., add=...)`` with names turned into train ids; any
    other value is left for the part to refuse."""
    if not isinstance(rule, dict) or set(rule) != {'when', 'add'}:
        return rule
    return {k: _class_ids(rule[k], classes, f'{key}.{k}')
            for k in ('when', 'add')}


def _init_params(part_type: Any) -> Dict[str, inspect.Parameter]:
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    cls = MODELS.get(part_type) if isinstance(part_type, str) else part_type
    if cls is None:
        return {}
    try:
        return dict(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):
        return {}


def resolve_uda_classes(uda: Any, classes: Sequence[str], where: str,
                        key: str = 'uda') -> Any:
    """A copy of the ``uda`` config with class lists as train ids and
    ``num_classes`` filled in (see the module docstring).

    Raises:
        ConfigError: an unknown class name or id, a part's ``num_classes``
            that differs from the class set, a Cityscapes default class list
            or group rules with another class set.
    """
    cityscapes = tuple(classes) == tuple(CITYSCAPES_CLASSES)
    if isinstance(uda, (list, tuple)):
        return type(uda)(resolve_uda_classes(v, classes, where,
                                             f'{key}[{i}]')
                         for i, v in enumerate(uda))
    if not isinstance(uda, dict):
        return uda
    out = {}
    for k, v in uda.items():
        if k == 'model':  # the segmentor: checked by check_head_classes
            out[k] = v
        elif k in CLASS_LIST_KEYS and v is not None and not isinstance(
                v, bool):
            out[k] = _class_ids(v, classes, f'{key}.{k}')
        elif k in CLASS_RULE_KEYS and isinstance(v, (list, tuple)):
            out[k] = [_class_rule(rule, classes, f'{key}.{k}[{i}]')
                      for i, rule in enumerate(v)]
        else:
            out[k] = resolve_uda_classes(v, classes, where, f'{key}.{k}')
    part = out.get('type')
    if part is None and key.rsplit('.', 1)[-1] in UNTYPED_PARTS:
        part = _untyped_part(key.rsplit('.', 1)[-1])
    if part is None or key == 'uda':
        return out
    params = _init_params(part)
    if 'num_classes' in params:
        given = out.get('num_classes')
        if given is None:
            out['num_classes'] = len(classes)
        elif int(given) != len(classes):
            raise ConfigError(
                f'{key}.num_classes={given} but {where} has {len(classes)} '
                f'classes {_short(classes)}')
    if not cityscapes:
        for k in CLASS_LIST_KEYS + CLASS_RULE_KEYS:
            param = params.get(k)
            if k in out or param is None:
                continue
            default = param.default
            if isinstance(default, (list, tuple)) and default:
                raise ConfigError(
                    f'{key}.{k} defaults to Cityscapes train ids '
                    f'{tuple(default)}, but {where} has other classes; set '
                    f'{key}.{k} to ' + ('rules dict(when=[...], add=[...]) '
                                        'of your class names (or [])'
                                        if k in CLASS_RULE_KEYS else
                                        'a list of your class names'))
    return out


def apply_class_set(model: Dict, uda: Optional[Dict],
                    cfg) -> Tuple[Dict, Optional[Dict]]:
    """Check the heads of ``model`` and resolve ``uda`` against the class
    set of ``cfg``; returns ``(model, uda)``."""
    classes, where = config_classes(cfg)
    check_head_classes(model, classes, where)
    if uda is not None:
        uda = resolve_uda_classes(uda, classes, where)
    return model, uda
