"""How the process's C allocator treats freed host (CPU) memory.

A training step on CPU allocates and frees hundreds of large tensors
(activations, gradients, temporaries: up to hundreds of MiB each for a
MiT-B5 + DAFormer step at 512x512). glibc's ``malloc`` serves every block
above its mmap threshold (at most 32 MiB) with a fresh ``mmap`` and hands it
back with ``munmap`` when the tensor is freed, so the next step pays the page
faults and the kernel's zeroing of those pages again. On CUDA, PyTorch's
caching allocator already keeps freed blocks for reuse; ``'retain'`` gives
host memory the same treatment: large blocks come from the heap and freed
memory stays in the process for the next step.

Policies (config key ``host_allocator``):

``'retain'`` (default)
    ``mallopt(M_MMAP_MAX, 0)``: no block is served by its own mmap
    (glibc still falls back to mmap where the heap cannot grow), and
    ``mallopt(M_TRIM_THRESHOLD, 2**31 - 1)``: freed memory is not returned
    to the operating system. The process's resident memory then stays at
    its peak between steps, as a CUDA process's reserved memory does.
    Results are bit-identical: only where tensors live changes.
``'system'``
    glibc's defaults, untouched (the behaviour of HRDA's and DAFormer's
    code).

Only glibc (Linux) has these knobs; elsewhere ``'retain'`` changes nothing
and :func:`configure_host_allocator` returns False. The setting is
process-wide and is inherited by data-loader workers started afterwards.
"""
import ctypes
import ctypes.util
import platform
from typing import Optional

HOST_ALLOCATOR_POLICIES = ('retain', 'system')

# glibc <malloc.h> parameter numbers of mallopt()
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
KEEP_ALL_FREED = 2**31 - 1  # the largest int mallopt accepts


def check_host_allocator(policy: object, where: str = 'host_allocator') -> str:
    """``policy`` if it names a policy.

    Raises:
        ValueError: ``policy`` is not one of :data:`HOST_ALLOCATOR_POLICIES`
            (the message names ``where`` and the value).
    """
    if policy not in HOST_ALLOCATOR_POLICIES:
        raise ValueError(f'{where} must be one of '
                         f'{list(HOST_ALLOCATOR_POLICIES)}, got {policy!r}')
    return policy  # type: ignore[return-value]


def glibc() -> Optional[ctypes.CDLL]:
    """The process's C library if it is glibc, else None."""
    if platform.system() != 'Linux' or platform.libc_ver()[0] != 'glibc':
        return None
    try:
        return ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
    except OSError:
        return None


def configure_host_allocator(policy: str = 'retain',
                             libc: Optional[ctypes.CDLL] = None) -> bool:
    """Apply ``policy`` to this process; True when glibc was changed.

    Args:
        policy: ``'retain'`` or ``'system'`` (see the module docstring).
        libc: the C library to configure (default: this process's glibc).

    Raises:
        ValueError: unknown ``policy``.
    """
    check_host_allocator(policy)
    if policy == 'system':
        return False
    libc = libc if libc is not None else glibc()
    if libc is None:
        return False
    # mallopt returns 1 on success, 0 on error
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, KEEP_ALL_FREED))
