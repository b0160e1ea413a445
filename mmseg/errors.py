"""The error a config, key or command-line value that cannot be honoured
raises, and the one "did you mean" hint every such message carries.

This module imports nothing of the project, so any layer (models,
datasets, engine, config, tools) may raise :class:`ConfigError`.
"""
import difflib
from typing import Iterable, Optional


class ConfigError(ValueError):
    """A config key, ``--cfg-options`` entry or value is unknown, misspelt
    or unusable; the message is one line naming the file, key and value.
    The command-line tools print it as one line and exit with status 1."""


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance of two short strings."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                       prev + (ca != cb))
    return row[-1]


def closest_name(name: str, choices: Iterable[str],
                 max_edits: Optional[int] = None) -> Optional[str]:
    """The choice ``name`` most likely misspells, or None.

    Args:
        name: what the user wrote.
        choices: the names that exist.
        max_edits: if given, only a choice at most this many single-letter
            edits (Levenshtein) away counts, the fewest edits first (used
            where a near miss is itself an error, e.g. a top-level config
            variable ``runer``); otherwise difflib's similarity ratio >= 0.6.
    """
    choices = sorted(set(choices))
    if max_edits is not None:
        near = sorted((_edit_distance(name, c), c) for c in choices)
        return near[0][1] if near and near[0][0] <= max_edits else None
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, choices: Iterable[str],
                 max_edits: Optional[int] = None) -> str:
    """`` (did you mean "x"?)`` for :func:`closest_name`, or ``''``."""
    close = closest_name(name, choices, max_edits)
    return f' (did you mean "{close}"?)' if close is not None else ''
