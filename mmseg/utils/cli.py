"""The shared top-level error handler of every command-line entry point.

Every tool ends with ``sys.exit(run_cli(main))``. A failure prints one line
on stderr, ``<tool>: error: <message>``, naming the file, key or value, and
exits with status 1; ``--debug`` (accepted by every tool) shows the full
traceback instead. Nothing is deleted on the way out, so whatever a run had
already written stays.
"""
import os
import os.path as osp
import sys
import traceback
from typing import Any, Callable, List, Optional, Sequence

from mmseg.config.registered_types import unknown_type_error

DEBUG_FLAG = '--debug'
EXIT_ERROR = 1
# exception types whose message is written for users (the type name would
# only add noise); anything else is shown as ``TypeName: message``
_USER_ERRORS = ('ConfigError', 'CheckpointLoadError', 'FileNotFoundError',
                'RunDirError', 'OutputDirError', 'OutputCollisionError',
                'ClassStatsError', 'CorruptFileError', 'SubmissionError')


def one_line(err: BaseException) -> str:
    """``err`` as one line: OS errors as ``<reason>: <path>``, others by
    their first line (the type name is added unless it is a user error)."""
    if isinstance(err, OSError) and err.filename is not None \
            and err.strerror:
        path = err.filename if err.filename2 is None \
            else f'{err.filename} -> {err.filename2}'
        return f'{err.strerror}: {path}'
    if isinstance(err, KeyError) and len(err.args) == 1:
        unknown = unknown_type_error(err)
        if unknown is not None:
            return str(unknown)
        text = str(err.args[0])
    else:
        text = str(err)
    lines = [line.strip() for line in text.strip().splitlines()
             if line.strip()]
    text = lines[0] if lines else repr(err)
    if len(lines) > 1:
        text += f' (+{len(lines) - 1} more lines with {DEBUG_FLAG})'
    if type(err).__name__ not in _USER_ERRORS:
        text = f'{type(err).__name__}: {text}'
    return text


def add_debug_argument(parser: Any) -> None:
    """List ``--debug`` in a tool's ``--help``. :func:`run_cli` reads it
    (and removes it before ``main`` parses the arguments)."""
    parser.add_argument(
        DEBUG_FLAG,
        action='store_true',
        help='on an error, show the full traceback instead of one line')


def run_cli(main: Callable[[Optional[List[str]]], Any],
            argv: Optional[Sequence[str]] = None,
            keep_debug_flag: bool = False,
            prog: Optional[str] = None) -> int:
    """Run ``main(argv)`` and turn an exception into one line on stderr.

    Args:
        main: the tool's ``main(argv)``.
        argv: the arguments (default ``sys.argv[1:]``).
        keep_debug_flag: pass ``--debug`` on to ``main`` (for a tool whose
            own ``--debug`` also means more, e.g. ``run_experiments.py``);
            otherwise it is removed before ``main`` parses the arguments.
        prog: the name in the message (default: the script's file name).

    Returns:
        The exit status: 0, or 1 after an error. ``SystemExit`` (argparse,
        explicit exits) and ``KeyboardInterrupt`` pass through unchanged.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv
    if not keep_debug_flag:
        argv = [a for a in argv if a != DEBUG_FLAG]
    prog = prog or osp.basename(sys.argv[0])
    try:
        main(argv)
    except Exception as err:  # noqa: BLE001 - the one top-level handler
        if debug:
            traceback.print_exc()
        else:
            sys.stdout.flush()
            print(f'{prog}: error: {one_line(err)}', file=sys.stderr)
        return EXIT_ERROR
    return 0


class OutputDirError(OSError):
    """An output folder cannot be created or written."""


def ensure_output_dir(path: str, what: str) -> str:
    """Create folder ``path`` if needed and check that it can be written.

    Args:
        path: the folder.
        what: how the user named it, e.g. ``'--work-dir'``.

    Raises:
        OutputDirError: naming ``what``, ``path`` and the reason, before
            anything is written (nothing already in the folder is touched).
    """
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise OutputDirError(f'{what} {path}: cannot create the folder '
                             f'({err.strerror or err})') from err
    if not os.access(path, os.W_OK | os.X_OK):
        raise OutputDirError(f'{what} {path}: the folder is not writable')
    return path
