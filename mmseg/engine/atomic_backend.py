"""A local file backend whose writes are atomic (temp file + rename).

The checkpoint hook writes checkpoints and the ``last_checkpoint`` pointer
through it, so an interrupted save never leaves a truncated file behind and
never replaces a good checkpoint with a broken one.
"""
from pathlib import Path
from typing import Union

from mmengine.fileio.backends import LocalBackend, register_backend

from mmseg.utils.checkpoint_io import atomic_write_bytes

ATOMIC_BACKEND_ARGS = dict(backend='atomic_local')


class AtomicLocalBackend(LocalBackend):
    """:class:`LocalBackend` with atomic ``put`` and ``put_text``."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, str(filepath))

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), str(filepath))


register_backend('atomic_local', AtomicLocalBackend, force=True)
