"""Run a function on several CPU processes (gloo) and collect its results.

``run_on_ranks(fn, world_size, **kwargs)`` spawns ``world_size``
processes; each sets the torchrun environment variables, optionally starts
the gloo process group, calls ``fn(rank, world_size, **kwargs)`` and saves
the return value; the caller gets the list in rank order. ``fn`` must be a
module-level function (it is pickled by name).
"""
import os
import socket
import tempfile
import traceback
from typing import Any, Callable, List

import torch
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, out_dir: str,
            fn: Callable, init: bool, kwargs: dict) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                      RANK=str(rank), WORLD_SIZE=str(world_size),
                      LOCAL_RANK=str(rank), LOCAL_WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    from mmseg.engine.distributed import (init_distributed,
                                          shutdown_distributed)
    try:
        if init:
            init_distributed('pytorch', dict(backend='gloo', timeout=300))
        result = fn(rank, world_size, **kwargs)
        torch.save(result, os.path.join(out_dir, f'rank{rank}.pt'))
    except BaseException:
        with open(os.path.join(out_dir, f'rank{rank}.err'), 'w') as f:
            f.write(traceback.format_exc())
        raise
    finally:
        shutdown_distributed()


def run_on_ranks(fn: Callable, world_size: int = 2, init: bool = True,
                 **kwargs: Any) -> List[Any]:
    """``[fn(0, world_size, **kwargs), ..., fn(world_size - 1, ...)]``,
    each computed in its own process of one process group."""
    with tempfile.TemporaryDirectory() as out_dir:
        try:
            mp.start_processes(
                _worker, args=(world_size, free_port(), out_dir, fn, init,
                               kwargs),
                nprocs=world_size, join=True, start_method='spawn')
        except Exception as err:
            errors = [open(os.path.join(out_dir, name)).read()
                      for name in sorted(os.listdir(out_dir))
                      if name.endswith('.err')]
            raise AssertionError('\n'.join(errors) or str(err)) from err
        return [torch.load(os.path.join(out_dir, f'rank{r}.pt'),
                           weights_only=False) for r in range(world_size)]


def assert_same(a: Any, b: Any, where: str = '') -> None:
    """Bitwise equality of nested dicts/lists/tensors/plain values."""
    if torch.is_tensor(a):
        assert torch.is_tensor(b) and a.dtype == b.dtype and \
            a.shape == b.shape, where
        assert torch.equal(a, b), f'{where} differs'
    elif isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), where
        for key in a:
            assert_same(a[key], b[key], f'{where}.{key}')
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f'{where}[{i}]')
    else:
        assert a == b, f'{where}: {a!r} != {b!r}'
