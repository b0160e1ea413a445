"""Safe loading and atomic writing of checkpoint files.

Checkpoints are untrusted input: they are read with ``torch.load(weights_only=True)``
and an allow-list of the few plain classes that mmengine's training checkpoints
contain. A file that needs anything else is refused with a message naming the
switch (``trusted=True``, ``--trust-checkpoint`` on the command line) that allows
full unpickling of a file the user trusts; callers where that switch does not
reach the load pass their own remedy (``trust_hint``).

Before unpickling, the first bytes are checked: a file that is neither a zip
archive (``torch.save`` since 1.6) nor a pickle (the legacy format) - an HTML
page or a text file saved as ``.pth`` by a failed download - is reported as
"not a PyTorch checkpoint (starts with '<')", whatever the trust setting.

Files are written atomically (temp file + rename) with the permissions an
ordinary ``open()`` would give them (``0o666`` minus the umask).
"""
import io
import os
import os.path as osp
import re
import tempfile
from typing import Any, List, Optional

import numpy as np
import torch

TRUST_HINT = ('pass --trust-checkpoint (or trusted=True / '
              'cfg.trust_checkpoint=True) only for a file you trust')
# Weight files read while a model is built (backbone ``pretrained``, LPIPS
# weights) are out of the trust switch's reach; a trusted file is converted
# once to a weights-only file instead.
CONVERT_HINT = (
    'if you trust the file, convert it once with "python '
    'tools/publish_model.py --trust-checkpoint FILE OUT.pth" and point the '
    'config to the file it writes')


# First bytes of the formats torch.load reads: a zip archive (torch >= 1.6)
# or a pickle (protocol 2+, the legacy format and plain pickles).
ZIP_MAGIC = b'PK\x03\x04'
# torch's legacy format starts with a pickled magic number (protocol 2,
# LONG1 of 10 bytes); other pickles are not readable by torch.load.
LEGACY_MAGIC = b'\x80\x02\x8a\x0a'
PICKLE_PREFIX = b'\x80'
MAX_SHOWN_BYTES = 16
HEAD_BYTES = 64


class CheckpointLoadError(RuntimeError):
    """A checkpoint file is missing, unreadable or does not fit the model."""


def describe_non_checkpoint(filename: str) -> Optional[str]:
    """Why ``filename`` cannot be a PyTorch checkpoint, or None if it may be.

    Looks only at the size and the first bytes: an empty file, or one that
    starts neither like a zip archive nor like a pickle (e.g. ``<html>``).
    """
    with open(filename, 'rb') as f:
        head = f.read(HEAD_BYTES)
    if not head:
        return (f'{filename} is empty (0 bytes), not a PyTorch checkpoint; '
                'download or copy it again')
    if head.startswith(ZIP_MAGIC) or head.startswith(LEGACY_MAGIC):
        return None
    if head.startswith(PICKLE_PREFIX):
        return (f'{filename} is not a PyTorch checkpoint (a plain Python '
                'pickle without torch.save\'s header); save the weights with '
                'torch.save')
    text = head.decode('latin-1')
    shown = text[:MAX_SHOWN_BYTES]
    if text.lstrip().startswith('<'):
        kind = 'an HTML/XML page, e.g. the error page of a failed download'
    elif text.startswith('version https://git-lfs'):
        kind = 'a Git LFS pointer; run git lfs pull'
    elif all(c.isprintable() or c in '\r\n\t' for c in text):
        kind = 'a text file, e.g. the error message of a failed download'
    else:
        kind = 'an unknown binary format'
    return (f'{filename} is not a PyTorch checkpoint (starts with '
            f'{text[0]!r}: {shown!r}; probably {kind}); download the file '
            'again')


def _safe_classes() -> List[Any]:
    """Classes besides tensors that our and mmengine's checkpoints hold."""
    from collections import OrderedDict, defaultdict
    from mmengine.logging.history_buffer import HistoryBuffer
    classes: List[Any] = [
        HistoryBuffer, OrderedDict, defaultdict, np.ndarray, np.dtype,
        np.core.multiarray._reconstruct if hasattr(np, 'core') else None,
        np.core.multiarray.scalar if hasattr(np, 'core') else None,
    ]
    try:  # numpy 2 moved the pickling helpers
        from numpy._core import multiarray as _ma
        classes += [_ma._reconstruct, _ma.scalar]
    except ImportError:  # pragma: no cover - numpy < 2
        pass
    classes += [type(np.dtype(t)) for t in
                ('float64', 'float32', 'int64', 'int32', 'uint8', 'bool')]
    return [c for c in classes if c is not None]


def _first_line(err: Exception) -> str:
    """The first sentence of an error's message."""
    lines = str(err).strip().splitlines()
    line = lines[0] if lines else type(err).__name__
    return line.split('. ')[0].rstrip('.')


def _unsafe_detail(err: Exception) -> str:
    """What a weights-only load refused (``Unsupported global: ...``)."""
    match = re.search(r'Unsupported global: GLOBAL (\S+)', str(err))
    if match:
        return f'it holds {match.group(1)}'
    match = re.search(r'WeightsUnpickler error: \s*(.+)', str(err))
    return match.group(1).strip() if match else _first_line(err)


def load_checkpoint_file(filename: str,
                         map_location: Any = 'cpu',
                         trusted: bool = False,
                         trust_hint: str = TRUST_HINT) -> Any:
    """Load ``filename`` with weights-only unpickling (see module docstring).

    Raises :class:`CheckpointLoadError` (one line naming ``filename``) for a
    missing, empty, non-checkpoint, truncated or unsafe file; ``trust_hint``
    is the remedy named for a file that needs full unpickling.
    """
    if not osp.isfile(filename):
        raise CheckpointLoadError(f'checkpoint file not found: {filename}')
    reason = describe_non_checkpoint(filename)
    if reason:
        raise CheckpointLoadError(reason)
    if trusted:
        try:
            return torch.load(filename, map_location=map_location,
                              weights_only=False)
        except Exception as err:  # noqa: BLE001 - re-raised with context
            raise _read_error(filename, err) from err
    try:
        with torch.serialization.safe_globals(_safe_classes()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with context
        if 'Weights only load failed' in str(err):
            raise CheckpointLoadError(
                f'{filename} needs arbitrary unpickling to load, which is '
                f'refused for safety ({_unsafe_detail(err)}); '
                f'{trust_hint}') from err
        raise _read_error(filename, err) from err


def _read_error(filename: str, err: Exception) -> CheckpointLoadError:
    """A one-line error for a file torch.load could not read."""
    if isinstance(err, (ImportError, AttributeError)):
        return CheckpointLoadError(
            f'cannot read checkpoint {filename}: it needs a class this '
            f'installation does not have ({_first_line(err)})')
    return CheckpointLoadError(
        f'{filename} is truncated or corrupt ({osp.getsize(filename)} '
        f'bytes; an interrupted download or copy?): {_first_line(err)}')


def current_umask() -> int:
    """The process umask (read from /proc on Linux, else set and restored)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write_bytes(data: bytes, filename: str) -> None:
    """Write ``data`` to ``filename`` so that readers never see a partial file."""
    directory = osp.dirname(osp.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix='.' + osp.basename(filename), suffix='.tmp')
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp gives 0o600
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filename)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_torch_save(obj: Any, filename: str) -> None:
    """``torch.save`` through :func:`atomic_write_bytes`."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write_bytes(buffer.getvalue(), filename)


def extract_state_dict(checkpoint: Any,
                       filename: Optional[str] = None) -> dict:
    """Return the weights of a checkpoint saved as a bare or wrapped dict."""
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model'):
            if key in checkpoint and isinstance(checkpoint[key], dict):
                return checkpoint[key]
        return checkpoint
    raise CheckpointLoadError(
        f'{filename or "checkpoint"} holds a {type(checkpoint).__name__}, '
        'not a state dict')
