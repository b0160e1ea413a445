"""Safe loading and atomic writing of checkpoint files.

Checkpoints are untrusted input: they are read with ``torch.load(weights_only=True)``
and an allow-list of the few plain classes that mmengine's training checkpoints
contain. A file that needs anything else is refused with a message naming the
switch (``trusted=True``, ``--trust-checkpoint`` on the command line) that allows
full unpickling of a file the user trusts.
"""
import io
import os
import os.path as osp
import tempfile
from typing import Any, List, Optional

import numpy as np
import torch

TRUST_HINT = ('pass --trust-checkpoint (or trusted=True / '
              'cfg.trust_checkpoint=True) only for a file you trust')


class CheckpointLoadError(RuntimeError):
    """A checkpoint file is missing, unreadable or does not fit the model."""


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


def load_checkpoint_file(filename: str,
                         map_location: Any = 'cpu',
                         trusted: bool = False) -> Any:
    """Load ``filename`` with weights-only unpickling (see module docstring)."""
    if not osp.isfile(filename):
        raise CheckpointLoadError(f'checkpoint file not found: {filename}')
    if trusted:
        return torch.load(filename, map_location=map_location,
                          weights_only=False)
    try:
        with torch.serialization.safe_globals(_safe_classes()):
            return torch.load(filename, map_location=map_location,
                              weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with context
        if 'weights_only' in str(err) or 'Unsupported global' in str(err):
            raise CheckpointLoadError(
                f'{filename} needs arbitrary unpickling to load, which is '
                f'refused for safety; {TRUST_HINT}. Detail: '
                f'{str(err).splitlines()[0]}') from err
        raise CheckpointLoadError(
            f'cannot read checkpoint {filename}: {err}') from err


def atomic_write_bytes(data: bytes, filename: str) -> None:
    """Write ``data`` to ``filename`` so that readers never see a partial file."""
    directory = osp.dirname(osp.abspath(filename))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=directory, prefix='.' + osp.basename(filename), suffix='.tmp')
    try:
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
