"""Checked label conversion shared by the converters: each file is read,
questioned and converted in a worker; the main process prints the named
problems, one summary line and writes the RCS stats.

Per file (a :class:`LabelResult`):

- skipped: cannot be decoded (truncated/corrupt PNG), is not a
  single-channel integer map (e.g. an RGB ``*_labelIds.png``), or cannot be
  written; nothing is written for it;
- suspicious: converted, but holds ids outside the dataset's range (label
  ids > 33, 16-bit values >= 256, NightCity+ 255 without ``--plus``); those
  pixels become ignore (255).

:func:`finish` exits non-zero (one line) when files were skipped or the
stats list no class; workers (``--nproc``) report exactly as one process.
"""
import sys
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np
from PIL import Image

from _common import sample_stats, save_class_stats
from mmseg.datasets.class_stats import class_pixel_total
from mmseg.datasets.cityscapes_labels import ID_TO_TRAINID

# Largest Cityscapes label id (33, bicycle): GTA, Cityscapes, NightCity.
CITYSCAPES_MAX_ID = max(ID_TO_TRAINID)

# Problems printed one per line before the summary; the rest are counted.
MAX_LISTED = 20


class LabelFileError(Exception):
    """One label file cannot be converted (message names the file)."""


@dataclass
class LabelResult:
    """Outcome of one label file (picklable: workers return it)."""
    path: str
    stats: Optional[dict] = None
    skipped: Optional[str] = None
    suspicious: Optional[str] = None


def read_label_ids(path: str) -> np.ndarray:
    """Decode ``path`` with PIL as an integer ``[H, W]`` id map.

    Raises:
        LabelFileError: undecodable, several channels, or not integers.
    """
    try:
        with Image.open(path) as pil:
            mode = pil.mode
            label = np.array(pil)
    except (OSError, SyntaxError, ValueError,
            Image.DecompressionBombError) as err:
        raise LabelFileError(f'{path}: cannot decode ({err})') from err
    return check_single_channel(label, path, f'{mode} ')


def check_single_channel(label: np.ndarray, path: str,
                         mode: str = '') -> np.ndarray:
    """``label`` if it is a 2-D integer map, else :class:`LabelFileError`."""
    if label.ndim != 2:
        raise LabelFileError(
            f'{path}: {mode}image of shape {label.shape}, expected a '
            'single-channel id map (a colour-coded label?)')
    if label.dtype.kind not in 'ui':
        raise LabelFileError(f'{path}: {label.dtype} pixels, expected '
                             'integer label ids')
    return label


def out_of_range(label: np.ndarray, path: str, max_id: int,
                 hints: Optional[Dict[int, str]] = None) -> Optional[str]:
    """Why ``label`` is suspicious (ids outside ``0..max_id``), or None;
    ``hints[v]`` is appended when the value ``v`` is among them."""
    bad = (label < 0) | (label > max_id)
    count = int(bad.sum())
    if count == 0:
        return None
    values = np.unique(label[bad])
    shown = ', '.join(str(v) for v in values[:5]) + (
        ', ...' if len(values) > 5 else '')
    kind = f'{label.dtype.itemsize * 8}-bit label: ' \
        if label.dtype.itemsize > 1 else ''
    hint = ''.join(h for v, h in (hints or {}).items() if v in values)
    return (f'{path}: {kind}{count} of {label.size} pixels hold ids outside '
            f'0..{max_id} ({shown}; max {int(values.max())}), converted to '
            f'ignore (255){hint}')


def write_train_ids(label: np.ndarray, lut: np.ndarray,
                    out_file: str) -> np.ndarray:
    """Map ids through the 256-entry ``lut`` (ids outside 0..255 -> 255),
    write a mode-L PNG and return the train-id map.

    Raises:
        LabelFileError: the output cannot be written.
    """
    if label.dtype != np.uint8:
        label = np.where((label >= 0) & (label <= 255), label,
                         255).astype(np.uint8)
    train_ids = lut[label]
    try:
        Image.fromarray(train_ids).save(out_file)
    except OSError as err:
        raise LabelFileError(f'{out_file}: cannot write ({err})') from err
    return train_ids


def convert_checked(path: str, read: Callable[[str], np.ndarray],
                    lut: np.ndarray, out_file: str, max_id: int,
                    with_stats: bool, num_classes: int = 19,
                    hints: Optional[Dict[int, str]] = None,
                    prepare: Optional[Callable[[np.ndarray], np.ndarray]]
                    = None) -> LabelResult:
    """Read, question, convert one label file (never raises for it)."""
    try:
        label = read(path)
        if prepare is not None:
            label = prepare(label)
        suspicious = out_of_range(label, path, max_id, hints)
        train_ids = write_train_ids(label, lut, out_file)
    except LabelFileError as err:
        return LabelResult(path, skipped=str(err))
    stats = sample_stats(train_ids, out_file, num_classes) \
        if with_stats else None
    return LabelResult(path, stats=stats, suspicious=suspicious)


def print_problems(kind: str, messages: List[str]) -> None:
    for msg in messages[:MAX_LISTED]:
        print(f'{kind}: {msg}', file=sys.stderr)
    if len(messages) > MAX_LISTED:
        print(f'{kind}: ... and {len(messages) - MAX_LISTED} more '
              f'{kind}s (first {MAX_LISTED} listed)', file=sys.stderr)


def finish(results: Sequence[LabelResult], title: str,
           stats_dir: Optional[str], stats_split: str = '') -> str:
    """Print problems and the summary line, write the RCS stats.

    ``stats_dir`` None: this run writes no stats. Returns the summary line.

    Raises:
        SystemExit: (one line, exit code 1) files were skipped, or the stats
            files would list no class (they are then not written).
    """
    skipped = [r.skipped for r in results if r.skipped]
    suspicious = [r.suspicious for r in results if r.suspicious]
    stats = [r.stats for r in results if r.stats is not None]
    print_problems('error', skipped)
    print_problems('warning', suspicious)
    converted = len(results) - len(skipped)
    summary = (f'{title}: {converted} of {len(results)} label files '
               f'converted, {len(skipped)} skipped, {len(suspicious)} '
               'suspicious')
    empty_stats = False
    if stats_dir is not None:
        split = f'{stats_split} ' if stats_split else ''
        if not stats:
            summary += f'; no {split}labels, no RCS stats written'
        elif class_pixel_total(stats) == 0:
            empty_stats = True
            summary += (f'; the {len(stats)} {split}labels hold no pixel of '
                        'a train id (all ignore), RCS stats not written')
        else:
            save_class_stats(stats_dir, stats)
            summary += f'; RCS stats of {len(stats)} {split}labels in ' \
                f'{stats_dir}'
    print(summary)
    if skipped or empty_stats:
        reason = (f'{len(skipped)} label files skipped (listed above)'
                  if skipped else 'no usable RCS stats')
        raise SystemExit(f'{title}: failed: {reason}; fix the labels and '
                         're-run')
    return summary
