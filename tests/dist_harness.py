"""Run a function on several CPU processes joined by a gloo process group."""
import os
import os.path as osp
import socket
import tempfile
from typing import Any, Callable, List

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _worker(rank: int, world: int, port: int, out_dir: str,
            fn: Callable[[int], Any]) -> None:
    os.environ['OMP_NUM_THREADS'] = '1'
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo',
                                  init_method=f'tcp://127.0.0.1:{port}',
                                  rank=rank,
                                  world_size=world)
    try:
        result = fn(rank)
        torch.save(result, osp.join(out_dir, f'rank{rank}.pt'))
    finally:
        torch_dist.destroy_process_group()


def run_on_ranks(fn: Callable[[int], Any], world: int = 2) -> List[Any]:
    """``fn(rank)`` on ``world`` processes (gloo); its results, rank order.

    ``fn`` must be importable (a module-level function) and return values
    ``torch.save`` can write.
    """
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(_worker,
                 args=(world, free_port(), out_dir, fn),
                 nprocs=world,
                 join=True)
        return [
            torch.load(osp.join(out_dir, f'rank{r}.pt'), weights_only=False)
            for r in range(world)
        ]


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
