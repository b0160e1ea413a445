"""Class mapping files of ``custom.py``: which label values (ids, or RGB
colours of colour-coded labels) belong to which class.

JSON: an object of class name -> list of values, in train-id order::

    {"flat": [7, 8], "construction": [11, 12, 13], "ignore": [0, 255]}

CSV: one ``value,class`` row per value (an optional ``value,class`` header;
class order = first appearance)::

    value,class
    7,flat
    8,flat

A value is an integer id, or with ``--palette-labels`` a colour: ``[R, G,
B]`` in JSON, ``#rrggbb`` or ``R G B`` in either. The class name ``ignore``
maps its values to 255 (not a class). Values in no entry are converted to
255 and reported (named and counted) by the converter.
"""
import csv
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

IGNORE_NAME = 'ignore'
IGNORE_ID = 255
MAX_ID = 65535  # 16-bit label PNGs

Value = Union[int, Tuple[int, int, int]]


class MappingError(ValueError):
    """A mapping file that cannot be used (the message names the file and
    the entry)."""


def parse_color(text: Union[str, Sequence], where: str) -> Tuple[int, ...]:
    """``#rrggbb``, ``"R G B"`` or ``[R, G, B]`` -> ``(R, G, B)``."""
    if isinstance(text, str):
        text = text.strip()
        if text.startswith('#') and len(text) == 7:
            try:
                return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))
            except ValueError:
                pass
            raise MappingError(f'{where}: {text!r} is not a #rrggbb colour')
        parts = text.replace(',', ' ').split()
    else:
        parts = list(text)
    try:
        rgb = tuple(int(v) for v in parts)
    except (TypeError, ValueError):
        rgb = ()
    if len(rgb) != 3 or not all(0 <= v <= 255 for v in rgb):
        raise MappingError(f'{where}: {text!r} is not a colour (#rrggbb or '
                           'three values 0..255)')
    return rgb


def parse_id(value, where: str) -> int:
    """An integer label id in 0..65535."""
    if isinstance(value, bool):
        value = None
    try:
        number = int(str(value).strip()) if not isinstance(value, int) \
            else value
    except ValueError:
        number = None
    if number is None or not 0 <= number <= MAX_ID:
        raise MappingError(f'{where}: {value!r} is not a label id 0..{MAX_ID}'
                           ' (colour-coded labels need --palette-labels)')
    return number


def _entries_of_json(path: str) -> List[Tuple[str, object, str]]:
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise MappingError(f'{path}: cannot read the mapping ({err})') from err
    if not isinstance(data, dict) or not data:
        raise MappingError(f'{path}: expected a JSON object of class name -> '
                           'list of label values')
    entries = []
    for name, values in data.items():
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise MappingError(f'{path}: class {name!r} lists no value')
        entries += [(str(name), v, f'{path}: class {name!r}') for v in values]
    return entries


def _entries_of_csv(path: str) -> List[Tuple[str, object, str]]:
    try:
        with open(path, newline='') as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip()
                                                          for c in r)]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise MappingError(f'{path}: cannot read the mapping ({err})') from err
    if rows and rows[0][0].strip().lower() in ('value', 'id', 'color',
                                              'colour'):
        rows = rows[1:]
    if not rows:
        raise MappingError(f'{path}: no "value,class" row')
    entries = []
    for i, row in enumerate(rows, 1):
        if len(row) != 2 or not row[1].strip():
            raise MappingError(f'{path}: row {i} {row}: expected '
                               '"value,class"')
        entries.append((row[1].strip(), row[0], f'{path}: row {i}'))
    return entries


def read_mapping(path: str, colors: bool
                 ) -> Tuple[Tuple[str, ...], Dict[Value, int]]:
    """``(class names, {value: train id})`` of a mapping file; values of
    ``ignore`` map to 255.

    Raises:
        MappingError: unreadable file, a value that is not an id (or colour
            with ``colors``), a value given to two classes, no class.
    """
    if not osp.isfile(path):
        raise MappingError(f'mapping file not found: {path}')
    entries = (_entries_of_csv(path) if path.lower().endswith('.csv')
               else _entries_of_json(path))
    classes: List[str] = []
    table: Dict[Value, int] = {}
    owner: Dict[Value, str] = {}
    for name, raw, where in entries:
        value = parse_color(raw, where) if colors else parse_id(raw, where)
        if name != IGNORE_NAME and name not in classes:
            classes.append(name)
        if value in owner and owner[value] != name:
            raise MappingError(f'{where}: value {raw!r} is already mapped to '
                               f'{owner[value]!r}')
        owner[value] = name
        table[value] = IGNORE_ID if name == IGNORE_NAME else \
            classes.index(name)
    if not classes:
        raise MappingError(f'{path}: every value maps to {IGNORE_NAME!r}; '
                           'no class')
    if len(classes) > IGNORE_ID:
        raise MappingError(f'{path}: {len(classes)} classes; at most '
                           f'{IGNORE_ID} fit an 8-bit label')
    return tuple(classes), table


def palette_mapping(palette: Sequence[Sequence[int]],
                    ignore_color: Optional[Sequence[int]] = None
                    ) -> Dict[Value, int]:
    """``{(R, G, B): train id}`` of a dataset palette (colour ``i`` is
    train id ``i``), plus ``ignore_color`` -> 255."""
    table: Dict[Value, int] = {}
    for i, color in enumerate(palette):
        rgb = tuple(int(v) for v in color)
        if rgb in table:
            raise MappingError(f'palette: colour {rgb} is given to train ids '
                               f'{table[rgb]} and {i}')
        table[rgb] = i
    if ignore_color is not None:
        table[tuple(int(v) for v in ignore_color)] = IGNORE_ID
    return table
