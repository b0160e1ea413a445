"""Registry look-ups for config checks: the class a ``type=`` names, and a
registry ``KeyError`` turned into an error naming the key path, the config
and the closest registered name."""
import re
from typing import Any, List, Optional

import mmengine.registry as mmengine_registry
from mmengine.registry import Registry

import mmseg.registry as ours
from mmseg.errors import ConfigError, did_you_mean

# mmengine's build_from_cfg: "<name> is not in the <scope>::<name> registry"
_NOT_REGISTERED = re.compile(r"^'?(?P<name>\S+) is not in the "
                             r'(?P<registry>\S+?) registry')


def _registries() -> List[Any]:
    found = []
    for module in (ours, mmengine_registry):
        found += [getattr(module, n) for n in dir(module)
                  if isinstance(getattr(module, n), Registry)]
    return found


def find_registered(name: Any) -> Optional[Any]:
    """The class (or function) registered as ``name`` in any registry of
    ours or mmengine's; None if there is none."""
    if not isinstance(name, str):
        return None
    for registry in _registries():
        try:
            obj = registry.get(name)
        except (KeyError, ImportError):
            obj = None
        if obj is not None:
            return obj
    return None


def registered_names() -> List[str]:
    names = set()
    for registry in _registries():
        names |= set(registry.module_dict)
    return sorted(names)


def _type_paths(node: Any, name: str, path: str = '') -> List[str]:
    """Dotted paths of the ``type`` keys under ``node`` equal to ``name``."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            sub = f'{path}.{key}' if path else str(key)
            if key == 'type' and value == name:
                found.append(sub)
            else:
                found += _type_paths(value, name, sub)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _type_paths(value, name, f'{path}.{i}')
    return found


def unknown_type_error(err: BaseException, cfg: Any = None,
                       filename: Optional[str] = None
                       ) -> Optional[Exception]:
    """A ``ConfigError`` for a registry ``KeyError`` ``err`` (``type=``
    names no registered class): the key path(s) of ``cfg`` holding the
    name, the config and the closest registered name; None for any other
    error."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args \
        else str(err)
    match = _NOT_REGISTERED.match(text.strip())
    if match is None:
        return None
    name = match.group('name')
    paths = _type_paths(dict(cfg.items()), name) if cfg is not None else []
    where = f'{", ".join(paths[:3])}: ' if paths else ''
    source = f' in config {filename}' if filename else \
        f' (not in the {match.group("registry")} registry)'
    return ConfigError(f'{where}unknown type "{name}"{source}'
                       f'{did_you_mean(name, registered_names())}')
