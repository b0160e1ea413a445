"""A dataset's class set: names (index = train id) and one colour each.

Datasets take ``classes=`` and ``palette=`` in their config; without them a
dataset class keeps its own ``CLASSES``/``PALETTE``. Colours for a class set
given without a palette come from :func:`default_palette`.
"""
import colorsys
from typing import List, Optional, Sequence, Tuple


def default_palette(num_classes: int) -> List[List[int]]:
    """``num_classes`` distinct, saturated ``[R, G, B]`` colours (evenly
    spaced hues, alternating brightness), the same for the same count."""
    colors = []
    for i in range(num_classes):
        hue = i / max(num_classes, 1)
        value = 0.95 if i % 2 == 0 else 0.7
        r, g, b = colorsys.hsv_to_rgb(hue, 0.85, value)
        colors.append([int(round(r * 255)), int(round(g * 255)),
                       int(round(b * 255))])
    return colors


def resolve_class_set(owner: str,
                      classes: Optional[Sequence[str]],
                      palette: Optional[Sequence[Sequence[int]]],
                      default_classes: Sequence[str],
                      default_palette_: Sequence[Sequence[int]]
                      ) -> Tuple[Tuple[str, ...], List[List[int]]]:
    """``(classes, palette)`` of a dataset ``owner`` from its config values,
    falling back to the dataset class's own.

    Raises:
        ValueError: (naming ``owner`` and the key) empty or repeated class
            names, a palette of another length than the classes, or a
            colour that is not three integers in 0..255.
    """
    if classes is None:
        classes = tuple(default_classes)
        if palette is None:
            palette = default_palette_
    if isinstance(classes, str):
        raise ValueError(f'{owner}: classes must be a list of names, got '
                         f'the string {classes!r}')
    classes = tuple(str(c) for c in classes)
    if not classes:
        raise ValueError(f'{owner}: classes is empty')
    repeated = sorted({c for c in classes if classes.count(c) > 1})
    if repeated:
        raise ValueError(f'{owner}: classes repeat {repeated}')
    if palette is None:
        palette = default_palette(len(classes))
    palette = [list(c) for c in palette]
    if len(palette) != len(classes):
        raise ValueError(f'{owner}: palette has {len(palette)} colours but '
                         f'classes has {len(classes)} names')
    for name, color in zip(classes, palette):
        if len(color) != 3 or not all(
                isinstance(v, int) and 0 <= v <= 255 for v in color):
            raise ValueError(f'{owner}: palette colour {color} of class '
                             f'{name!r} is not [R, G, B] in 0..255')
    return classes, palette
