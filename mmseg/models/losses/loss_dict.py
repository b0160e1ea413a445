"""Helpers on dicts of named losses and log values."""
from typing import Dict, TypeVar

V = TypeVar('V')


def add_prefix(values: Dict[str, V], prefix: str) -> Dict[str, V]:
    """``{'loss_seg': x}`` -> ``{'<prefix>.loss_seg': x}``."""
    return {f'{prefix}.{name}': value for name, value in values.items()}
