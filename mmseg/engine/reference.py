"""A run's result beside a measured reference number, printed at the end of training.

A config may hold ``reference = dict(value=Y, label='source-only, same seed', source='README')``
(``metric`` defaults to ``'mIoU'``). After training, :func:`reference_line` gives the last line
a newcomer reads, e.g. ``DarkZurich night val mIoU 31.20 (source-only, same seed: 22.10, from
README)``, so the run's result is seen next to what the method is compared with.
"""
from typing import Mapping, Optional

from mmseg.errors import ConfigError

REFERENCE_KEYS = ('value', 'label', 'source', 'metric')


def check_reference(reference: Optional[Mapping], filename: str = '') -> None:
    """Refuse a malformed ``reference`` config entry.

    Raises:
        ConfigError: unknown sub-key, or ``value`` missing or not a number.
    """
    if not reference:
        return
    where = f' (config {filename})' if filename else ''
    if not isinstance(reference, Mapping):
        raise ConfigError(f'reference: expected a dict, got {reference!r}{where}')
    unknown = sorted(set(reference) - set(REFERENCE_KEYS))
    if unknown:
        raise ConfigError(f'reference: unknown key(s) {", ".join(unknown)}; known: '
                          f'{", ".join(REFERENCE_KEYS)}{where}')
    if isinstance(reference.get('value'), bool) or \
            not isinstance(reference.get('value'), (int, float)):
        raise ConfigError(f'reference: "value" must be a number, got '
                          f'{reference.get("value")!r}{where}')


def reference_line(reference: Optional[Mapping], metrics: Mapping[str, float],
                   title: str) -> Optional[str]:
    """``'<title> <metric> X (<label>: Y, from <source>)'``, or None without a reference.

    ``metrics`` maps metric names (as validation logs them, e.g. ``'mIoU'``, in percent) to
    values; a reference whose metric was not measured gives a line saying so.
    """
    if not reference:
        return None
    metric = reference.get('metric', 'mIoU')
    label = reference.get('label', 'reference')
    source = f', from {reference["source"]}' if reference.get('source') else ''
    ref = f'({label}: {float(reference["value"]):.2f}{source})'
    if metric not in metrics:
        return f'{title} {metric}: not measured in this run {ref}'
    return f'{title} {metric} {float(metrics[metric]):.2f} {ref}'
