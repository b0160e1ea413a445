"""Your own labels -> train-id PNGs for any class set, plus the RCS stats.

    python tools/convert_datasets/custom.py ROOT --ann-dir DIR \\
        --seg-map-suffix S [--mapping FILE] [--palette-labels] [--config CFG]

Every file under ``ROOT/DIR`` ending with ``S`` is read and written beside
itself as ``<name without S><--out-suffix>`` (default
``_labelTrainIds.png``): single-channel, one train id per pixel, 255 =
ignore. How label values become train ids:

- ``--mapping FILE``: a JSON or CSV file of class name -> label values (ids,
  or colours with ``--palette-labels``), see ``_mapping.py``;
- ``--palette-labels`` without a mapping: colour-coded RGB labels read
  through the palette of ``--config`` (colour ``i`` = train id ``i``);
- neither: the labels already hold train ids ``0..N-1`` (N classes from
  ``--config``).

With ``--config`` (a training config or dataset config naming ``classes``),
the mapping's class names must be the config's. Values in no entry become
255 and are named and counted. Files that cannot be decoded or have the
wrong kind (RGB where ids are expected, or the reverse) are skipped and
named, and the run then exits 1. The rare class sampling statistics of all
converted files go to ``--stats-dir`` (default ``ROOT``).
"""
import argparse
import functools
import os.path as osp
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from _common import (add_nproc, find_files, run_parallel,  # noqa: E402
                     sample_stats)
from _labels import (MAX_LISTED, LabelFileError, LabelResult,  # noqa: E402
                     finish, read_label_ids)
from _mapping import (IGNORE_ID, MappingError, palette_mapping,  # noqa: E402
                      parse_color, read_mapping)
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from mmseg.errors import ConfigError  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

DEFAULT_OUT_SUFFIX = '_labelTrainIds.png'


@dataclass
class CustomLabelResult(LabelResult):
    """A :class:`LabelResult` with the label values no entry maps."""
    unknown: Dict = field(default_factory=dict)


def read_rgb_label(path: str) -> np.ndarray:
    """Decode a colour-coded label as ``uint8 [H, W, 3]`` RGB.

    Raises:
        LabelFileError: undecodable, or a single-channel (id) image.
    """
    try:
        with Image.open(path) as pil:
            mode = pil.mode
            if mode in ('L', 'I', 'I;16', 'I;16B', 'F', '1'):
                raise LabelFileError(
                    f'{path}: single-channel {mode} image, expected an RGB '
                    'colour-coded label (drop --palette-labels for id maps)')
            rgb = np.array(pil.convert('RGB'))
    except (OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as err:
        raise LabelFileError(f'{path}: cannot decode ({err})') from err
    return rgb


def _value_name(value) -> str:
    return str(tuple(value)) if isinstance(value, tuple) else str(value)


def _describe(unknown: Dict, size: int, path: str, kind: str) -> str:
    count = sum(unknown.values())
    shown = sorted(unknown.items(), key=lambda kv: -kv[1])
    text = ', '.join(f'{_value_name(v)}: {n} px' for v, n in shown[:5])
    more = f', ... {len(shown) - 5} more' if len(shown) > 5 else ''
    return (f'{path}: {count} of {size} pixels hold {kind} not in the '
            f'mapping ({text}{more}), converted to ignore ({IGNORE_ID})')


def map_ids(label: np.ndarray, table: Dict[int, int]
            ) -> Tuple[np.ndarray, Dict[int, int]]:
    """Train ids of an id map and ``{unmapped id: pixels}``."""
    lut = np.full(max(int(label.max()) + 1, 256), IGNORE_ID, np.uint8)
    known = np.zeros(len(lut), bool)
    for value, train_id in table.items():
        if value < len(lut):
            lut[value], known[value] = train_id, True
    label = label.astype(np.int64)
    values, counts = np.unique(label, return_counts=True)
    unknown = {int(v): int(n) for v, n in zip(values, counts)
               if not known[v]}
    return lut[label], unknown


def map_colors(rgb: np.ndarray, table: Dict[Tuple[int, int, int], int]
               ) -> Tuple[np.ndarray, Dict[Tuple[int, int, int], int]]:
    """Train ids of an RGB label and ``{unknown colour: pixels}``."""
    code = (rgb[..., 0].astype(np.int64) << 16) | \
        (rgb[..., 1].astype(np.int64) << 8) | rgb[..., 2].astype(np.int64)
    values, inverse, counts = np.unique(code, return_inverse=True,
                                        return_counts=True)
    colors = [((int(v) >> 16) & 255, (int(v) >> 8) & 255, int(v) & 255)
              for v in values]
    ids = np.array([table.get(c, IGNORE_ID) for c in colors], np.uint8)
    unknown = {c: int(n) for c, n in zip(colors, counts) if c not in table}
    return ids[inverse.reshape(code.shape)], unknown


def convert_file(path: str, table: Dict, colors: bool, in_suffix: str,
                 out_suffix: str, num_classes: int,
                 with_stats: bool) -> CustomLabelResult:
    """Read, map and write one label file (never raises for it)."""
    out_file = path[:len(path) - len(in_suffix)] + out_suffix
    try:
        if colors:
            train_ids, unknown = map_colors(read_rgb_label(path), table)
        else:
            train_ids, unknown = map_ids(read_label_ids(path), table)
        try:
            Image.fromarray(train_ids).save(out_file)
        except OSError as err:
            raise LabelFileError(f'{out_file}: cannot write ({err})') from err
    except LabelFileError as err:
        return CustomLabelResult(path, skipped=str(err))
    suspicious = _describe(unknown, train_ids.size, path,
                           'colours' if colors else 'ids') \
        if unknown else None
    stats = sample_stats(train_ids, out_file, num_classes) \
        if with_stats else None
    return CustomLabelResult(path, stats=stats, suspicious=suspicious,
                             unknown=unknown)


def config_class_set(path: str) -> Tuple[Tuple[str, ...], list]:
    """``(classes, palette)`` of a config's training (or test) dataset."""
    from mmseg.datasets.class_set import resolve_class_set
    from mmseg.engine.class_set_cfg import (_train_dataset, config_classes)
    from mmseg.config import load_config
    cfg = load_config(path)
    classes, _ = config_classes(cfg)
    ds, _ = _train_dataset(cfg)
    if ds is None:
        data = cfg.get('data') or {}
        ds = data.get('test') or data.get('val') or {}
    palette = ds.get('palette') if ds.get('classes') is not None else None
    if palette is None and ds.get('classes') is None:
        from mmseg.datasets.cityscapes_labels import PALETTE
        palette = PALETTE
    return resolve_class_set(path, classes, palette, classes, palette)


def build_table(args) -> Tuple[Tuple[str, ...], Dict, str]:
    """``(classes, value -> train id, where the classes come from)``.

    Raises:
        ConfigError: no source of classes, or mapping and config disagree.
    """
    config = config_class_set(args.config) if args.config else None
    if args.mapping:
        try:
            classes, table = read_mapping(args.mapping, args.palette_labels)
        except MappingError as err:
            raise ConfigError(str(err)) from err
        if config is not None and tuple(config[0]) != classes:
            raise ConfigError(
                f'{args.mapping} names the classes {list(classes)} but '
                f'{args.config} has {list(config[0])}; give both the same '
                'names in the same order')
        where = args.mapping
    elif config is not None:
        classes = tuple(config[0])
        if args.palette_labels:
            table = palette_mapping(config[1])
        else:
            table = {i: i for i in range(len(classes))}
            table[IGNORE_ID] = IGNORE_ID
        where = args.config
    else:
        raise ConfigError('give --mapping FILE (label values -> classes) or '
                          '--config CONFIG (classes and palette)')
    if args.ignore_color is not None:
        if not args.palette_labels:
            raise ConfigError('--ignore-color needs --palette-labels')
        try:
            table[parse_color(args.ignore_color, '--ignore-color')] = IGNORE_ID
        except MappingError as err:
            raise ConfigError(str(err)) from err
    return classes, table, where


def report_unknown(results: Sequence[CustomLabelResult], colors: bool
                   ) -> None:
    """One warning per unmapped value: its pixels and files in total."""
    pixels: Counter = Counter()
    files: Counter = Counter()
    for result in results:
        for value, n in result.unknown.items():
            pixels[value] += n
            files[value] += 1
    kind = 'colour' if colors else 'id'
    for value, n in pixels.most_common(MAX_LISTED):
        print(f'warning: unknown {kind} {_value_name(value)}: {n} pixels in '
              f'{files[value]} files, converted to ignore ({IGNORE_ID})',
              file=sys.stderr)
    if len(pixels) > MAX_LISTED:
        print(f'warning: ... and {len(pixels) - MAX_LISTED} more unknown '
              f'{kind}s', file=sys.stderr)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='\n'.join(__doc__.splitlines()[1:]))
    parser.add_argument('root', help='dataset folder')
    parser.add_argument('--ann-dir', required=True,
                        help='label folder, relative to ROOT (searched '
                        'recursively)')
    parser.add_argument('--seg-map-suffix', default='.png',
                        help='suffix of the label files to convert')
    parser.add_argument('--out-suffix', default=DEFAULT_OUT_SUFFIX,
                        help='suffix of the written train-id files (replaces '
                        '--seg-map-suffix); the dataset config\'s '
                        'seg_map_suffix')
    parser.add_argument('--mapping', help='JSON or CSV file: class name -> '
                        'label ids (or colours with --palette-labels)')
    parser.add_argument('--palette-labels', action='store_true',
                        help='labels are colour-coded RGB images')
    parser.add_argument('--config', help='config whose dataset names the '
                        'classes (and palette)')
    parser.add_argument('--ignore-color', help='with --palette-labels: the '
                        'colour of unlabelled pixels, e.g. "0 0 0"')
    parser.add_argument('--stats-dir', help='folder of the rare class '
                        'sampling stats (default: ROOT)')
    parser.add_argument('--no-stats', action='store_true',
                        help='write no stats (e.g. for val labels)')
    add_nproc(parser)
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    if args.out_suffix == args.seg_map_suffix:
        raise ConfigError(f'--out-suffix {args.out_suffix!r} equals '
                          '--seg-map-suffix: the labels would be overwritten')
    if not args.out_suffix.endswith('.png'):
        raise ConfigError(f'--out-suffix {args.out_suffix!r} must end with '
                          '.png')
    classes, table, where = build_table(args)
    ann_dir = osp.join(args.root, args.ann_dir)
    files = find_files(ann_dir, args.seg_map_suffix,
                       exclude_suffixes=[args.out_suffix])
    if not files:
        raise SystemExit(f'no *{args.seg_map_suffix} label file found under '
                         f'{ann_dir}')
    print(f'{len(classes)} classes from {where}: {", ".join(classes)}')
    convert = functools.partial(
        convert_file, table=table, colors=args.palette_labels,
        in_suffix=args.seg_map_suffix, out_suffix=args.out_suffix,
        num_classes=len(classes), with_stats=not args.no_stats)
    results = run_parallel(convert, files, args.nproc, 'custom')
    report_unknown(results, args.palette_labels)
    summary = finish(results, 'custom',
                     None if args.no_stats else (args.stats_dir or args.root))
    example = files[0][:len(files[0]) - len(args.seg_map_suffix)] + \
        args.out_suffix
    print(f'train-id labels: e.g. {example}; dataset config: '
          f'classes={tuple(classes)!r}')
    return summary


if __name__ == '__main__':
    sys.exit(run_cli(main))
