"""Data-parallel training of the UDA step on several processes.

Everything the runner needs to train on ``W`` processes (GPUs, or CPU
processes with gloo) lives here; models and plug-ins never test whether
they run distributed.

* :func:`init_distributed` starts the process group for ``--launcher
  pytorch`` (torchrun) or ``slurm`` (srun): NCCL when CUDA is available,
  gloo otherwise (``dist_params.backend`` may name one explicitly);
  ``torch.cuda.set_device`` only on CUDA.
* :class:`UDADataParallel` wraps the whole UDA module and keeps its own
  ``train_step``. After the step's last backward and before the optimiser
  step it averages the gradients of the trained parameters (the student;
  EGLP's NFNet) over the ranks (:func:`average_gradients`). Teachers, the
  ImageNet model and other frozen networks are never communicated: they
  follow the synced weights and are identical on every rank by
  construction. After every step a UDA module averages its networks'
  BatchNorm running statistics over the ranks itself (``DACS.sync_buffers``);
  a plain segmentor's follow rank 0 (:func:`broadcast_batchnorm_statistics`,
  DDP's ``broadcast_buffers``).
* :func:`gather_rng_states` / :func:`rng_state_of_rank` keep one RNG state
  per rank in the checkpoint, so a resumed multi-rank run continues exactly.
"""
import datetime
import logging
import os
import re
import subprocess
from contextlib import contextmanager
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence

import torch
import torch.distributed as torch_dist
from mmengine.dist import (all_gather_object, get_dist_info, get_world_size,
                           is_distributed)
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from torch import nn
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.parallel import DistributedDataParallel

from mmseg.errors import ConfigError
from mmseg.registry import MODEL_WRAPPERS

LAUNCHERS = ('pytorch', 'slurm', 'mpi')
BACKENDS = ('auto', 'nccl', 'gloo')
DEFAULT_PORT = 29500
#: what each launcher's processes find in their environment (torchrun's
#: ``env://`` variables; srun's task variables; Open MPI's plus the master
#: address, as mmengine's ``init_dist('mpi')`` reads them)
LAUNCHER_VARIABLES = {
    'pytorch': ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'),
    'slurm': ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_LOCALID',
              'SLURM_NODELIST'),
    'mpi': ('OMPI_COMM_WORLD_LOCAL_RANK', 'OMPI_COMM_WORLD_RANK',
            'OMPI_COMM_WORLD_SIZE', 'MASTER_ADDR'),
}
#: how a job with each launcher is started
LAUNCHER_STARTS = {
    'pytorch': 'torchrun, e.g. tools/dist_train.sh',
    'slurm': 'srun, e.g. tools/slurm_train.sh',
    'mpi': 'mpirun (Open MPI) and MASTER_ADDR set',
}
BUCKET_BYTES = 25 * 1024 * 1024


# ----------------------------------------------------------- process group
def default_backend() -> str:
    """``'nccl'`` when CUDA is available, else ``'gloo'``."""
    return 'nccl' if torch.cuda.is_available() else 'gloo'


def resolve_backend(backend: Optional[str]) -> str:
    """``backend`` (``None``/``'auto'``: :func:`default_backend`).

    Raises:
        ValueError: an unknown backend, or ``'nccl'`` without CUDA.
    """
    if backend in (None, 'auto'):
        return default_backend()
    if backend not in BACKENDS:
        raise ValueError(f'dist_params.backend: one of {BACKENDS}, '
                         f'got {backend!r}')
    if backend == 'nccl' and not torch.cuda.is_available():
        raise ValueError("dist_params.backend='nccl' needs CUDA, which is "
                         "not available here; use 'gloo' or 'auto'")
    return backend


def slurm_environment(environ: Mapping[str, str]) -> Dict[str, str]:
    """torch.distributed's ``env://`` variables for one srun task.

    Rank, world size and local rank come from ``SLURM_PROCID``,
    ``SLURM_NTASKS`` and ``SLURM_LOCALID``; the master is the first host of
    ``SLURM_NODELIST`` (``MASTER_ADDR`` wins when set) and the port is
    ``PORT``/``MASTER_PORT`` or 29500.

    Raises:
        ConfigError: a SLURM variable is missing (not started by srun).
    """
    check_launcher_environment('slurm', environ)
    addr = environ.get('MASTER_ADDR') or _first_slurm_host(
        environ['SLURM_NODELIST'])
    port = environ.get('MASTER_PORT') or environ.get('PORT') or str(
        DEFAULT_PORT)
    return dict(RANK=environ['SLURM_PROCID'],
                WORLD_SIZE=environ['SLURM_NTASKS'],
                LOCAL_RANK=environ['SLURM_LOCALID'],
                MASTER_ADDR=addr,
                MASTER_PORT=str(port))


def check_launcher_environment(launcher: str,
                               environ: Mapping[str, str]) -> None:
    """Refuse ``--launcher`` in a process its launcher did not start.

    The tools call it right after reading their arguments, before they
    write or train anything; :func:`init_distributed` calls it too.

    Raises:
        ConfigError: one of the launcher's :data:`LAUNCHER_VARIABLES` is
            not set; the one-line message names them and how to start the
            job (:data:`LAUNCHER_STARTS`).
    """
    if launcher not in LAUNCHER_VARIABLES:
        return  # 'none', or refused by the caller's choices
    missing = [k for k in LAUNCHER_VARIABLES[launcher] if k not in environ]
    if missing:
        raise ConfigError(
            f'--launcher {launcher}: {", ".join(missing)} not set (start '
            f'the job with {LAUNCHER_STARTS[launcher]}, or leave out '
            '--launcher)')


def _first_slurm_host(nodelist: str) -> str:
    try:
        out = subprocess.run(['scontrol', 'show', 'hostnames', nodelist],
                             check=True, capture_output=True, text=True)
        return out.stdout.split()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return first_host_of(nodelist)


def first_host_of(nodelist: str) -> str:
    """The first host of a SLURM node list without ``scontrol``:
    ``'gpu[03-05,9],cpu1'`` -> ``'gpu03'``, ``'node7'`` -> ``'node7'``."""
    match = re.match(r'([^\[,]+)(?:\[([^\]]+)\])?', nodelist.strip())
    if match is None:
        raise ValueError(f'SLURM_NODELIST: cannot read {nodelist!r}')
    prefix, ranges = match.groups()
    if not ranges:
        return prefix
    return prefix + ranges.split(',')[0].split('-')[0]


def init_distributed(launcher: str,
                     dist_params: Optional[Mapping[str, Any]] = None) -> str:
    """Start the default process group; return the backend used.

    ``dist_params``: ``backend`` (``'auto'``, ``'nccl'`` or ``'gloo'``) and
    ``timeout`` in seconds; other keys are refused.

    Raises:
        ValueError: unknown launcher or ``dist_params`` key/value.
        ConfigError: the launcher's environment variables are missing
            (:func:`check_launcher_environment`).
    """
    params = dict(dist_params or {})
    backend = resolve_backend(params.pop('backend', None))
    timeout = params.pop('timeout', None)
    if params:
        raise ValueError(f'dist_params: unknown key(s) {sorted(params)} '
                         '(known: backend, timeout)')
    if launcher not in LAUNCHERS:
        raise ValueError(f'launcher: one of {LAUNCHERS}, got {launcher!r}')
    if launcher == 'mpi':
        check_launcher_environment('mpi', os.environ)
        from mmengine.dist import init_dist
        init_dist('mpi', backend=backend)
        return backend
    if launcher == 'slurm':
        os.environ.update(slurm_environment(os.environ))
    check_launcher_environment('pytorch', os.environ)
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    if backend == 'nccl':
        torch.cuda.set_device(local_rank)
    kwargs = {}
    if timeout is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=float(timeout))
    torch_dist.init_process_group(backend=backend, init_method='env://',
                                  **kwargs)
    return backend


def shutdown_distributed() -> None:
    """Wait for every rank, then close the default process group."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


# -------------------------------------------------------------- collectives
def _buckets(tensors: Sequence[torch.Tensor]) -> Iterator[List[torch.Tensor]]:
    """Tensors grouped by (device, dtype) into chunks of ~25 MB."""
    groups: Dict[Any, List[torch.Tensor]] = {}
    for t in tensors:
        groups.setdefault((t.device, t.dtype), []).append(t)
    for group in groups.values():
        bucket: List[torch.Tensor] = []
        size = 0
        for t in group:
            bucket.append(t)
            size += t.numel() * t.element_size()
            if size >= BUCKET_BYTES:
                yield bucket
                bucket, size = [], 0
        if bucket:
            yield bucket


def _all_reduce_mean(tensors: Sequence[torch.Tensor]) -> None:
    world = get_world_size()
    for bucket in _buckets(tensors):
        flat = _flatten_dense_tensors(bucket)
        torch_dist.all_reduce(flat)
        flat.div_(world)
        for t, synced in zip(bucket, _unflatten_dense_tensors(flat, bucket)):
            t.copy_(synced)


@torch.no_grad()
def average_gradients(params: Sequence[nn.Parameter]) -> None:
    """Replace each ``param.grad`` by its mean over the ranks.

    A parameter that received no gradient on some rank counts as a zero
    gradient there; one that received none on any rank keeps
    ``grad=None`` (the optimiser skips it, as in a 1-process run). Same
    result as DDP with ``find_unused_parameters=True``. No-op in one
    process.
    """
    if get_world_size() == 1 or not params:
        return
    device = params[0].device
    has_grad = torch.tensor([float(p.grad is not None) for p in params],
                            device=device)
    torch_dist.all_reduce(has_grad)
    synced = []
    for param, used in zip(params, has_grad.tolist()):
        if used == 0:
            continue
        if param.grad is None:
            param.grad = torch.zeros_like(param)
        synced.append(param.grad)
    _all_reduce_mean(synced)


@torch.no_grad()
def broadcast_batchnorm_statistics(module: nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s BatchNorm buffers (running mean/var, counters)
    to every rank. SyncBN layers are skipped (already identical)."""
    if get_world_size() == 1:
        return
    buffers = [
        buf for m in module.modules()
        if isinstance(m, _BatchNorm) and not isinstance(m, nn.SyncBatchNorm)
        for buf in m.buffers(recurse=False)
    ]
    for bucket in _buckets(buffers):
        flat = _flatten_dense_tensors(bucket)
        torch_dist.broadcast(flat, src)
        for t, synced in zip(bucket, _unflatten_dense_tensors(flat, bucket)):
            t.copy_(synced)


@torch.no_grad()
def broadcast_module_state(module: nn.Module, src: int = 0) -> None:
    """Copy every parameter and buffer of rank ``src`` to all ranks."""
    if get_world_size() == 1:
        return
    tensors = [t.data for t in module.parameters()]
    tensors += list(module.buffers())
    for bucket in _buckets(tensors):
        flat = _flatten_dense_tensors(bucket)
        torch_dist.broadcast(flat, src)
        for t, synced in zip(bucket, _unflatten_dense_tensors(flat, bucket)):
            t.copy_(synced)


def gather_rng_states(state: Any) -> List[Any]:
    """Every rank's ``state`` (e.g. its RNG state), in rank order."""
    if get_world_size() == 1:
        return [state]
    return all_gather_object(state)


def rng_state_of_rank(checkpoint: Mapping[str, Any]) -> Optional[Any]:
    """This rank's RNG state from a checkpoint (``rng_states`` when it was
    written by the same number of ranks, else ``rng_state``, rank 0's)."""
    rank, world = get_dist_info()
    per_rank = checkpoint.get('rng_states')
    if per_rank and len(per_rank) == world:
        return per_rank[rank]
    if per_rank and world > 1:
        print_log(f'checkpoint has RNG states of {len(per_rank)} rank(s), '
                  f'this run has {world}: every rank restores rank 0\'s',
                  logger='current', level=logging.WARNING)
    return checkpoint.get('rng_state')


# ------------------------------------------------------------------ wrapper
@contextmanager
def gradients_averaged_before_step(optim_wrapper: Any,
                                   params: Sequence[nn.Parameter]):
    """Inside the block, ``optim_wrapper.step()`` first averages the
    gradients of ``params`` over the ranks (before clipping/unscaling)."""
    own = vars(optim_wrapper).get('step')  # an instance-level step, if any
    original_step = optim_wrapper.step

    def step(*args, **kwargs):
        average_gradients(params)
        return original_step(*args, **kwargs)

    optim_wrapper.step = step
    try:
        yield
    finally:
        if own is None:
            del optim_wrapper.step
        else:
            optim_wrapper.step = own


@MODEL_WRAPPERS.register_module()
class UDADataParallel(DistributedDataParallel):
    """Data parallelism for a model with its own multi-backward ``train_step``.

    Why not DDP's reducer: the UDA step back-propagates once per stage
    (source, mixed target, each plug-in loss) and calls the student through
    ``forward_train``, ``encode_decode`` and plug-ins, not through
    ``forward``; DDP only prepares its reducer in ``forward`` and all-reduces
    in every backward, so it would either miss the sync or need
    ``find_unused_parameters`` per stage. Instead the gradients of all stages
    accumulate locally and are averaged over the ranks once, right before
    the single optimiser step. Since every stage's loss is a mean over the
    rank's samples and averaging is linear, the step's gradient is
    ``mean_r(sum_s g_{r,s}) = sum_s mean_r(g_{r,s})``, exactly what DDP would
    compute; it equals the mean of the ranks' separately computed gradients.

    Only parameters with ``requires_grad`` (the student; EGLP's NFNet) are
    averaged; teachers and frozen networks are never sent. The wrapped
    module keeps its structure, so checkpoint keys are those of a 1-process
    run (``state_dict`` has no ``module.`` prefix). The runner broadcasts
    rank 0's parameters and buffers after ``init_weights``
    (:func:`broadcast_module_state`), so all ranks start identical; after
    every step BatchNorm running statistics are the mean over the ranks
    (``DACS.sync_buffers``; a plain segmentor follows rank 0). Cross-iteration
    state of plug-ins follows each plug-in's own rule (see
    ``docs/interfaces.md``).

    Call graph: ``train_step() -> module.train_step()`` (its optimiser
    step preceded by ``average_gradients()``, its buffers averaged by
    ``sync_buffers()``) or, for a plain segmentor,
    ``broadcast_batchnorm_statistics()``.
    """

    def __init__(self, module: nn.Module) -> None:
        # like mmengine's MMSeparateDistributedDataParallel: a DDP subclass
        # (so the runner treats it as a wrapper) without DDP's reducer
        super(DistributedDataParallel, self).__init__()
        self.module = module

    def trained_parameters(self) -> List[nn.Parameter]:
        return [p for p in self.module.parameters() if p.requires_grad]

    def train_step(self, data: Any, optim_wrapper: Any) -> Dict[str, Any]:
        with gradients_averaged_before_step(optim_wrapper,
                                            self.trained_parameters()):
            log_vars = self.module.train_step(data, optim_wrapper)
        if not hasattr(self.module, 'sync_buffers'):
            # a UDA module averages its networks' buffers in its step
            # (``DACS.sync_buffers``); a plain segmentor follows rank 0
            broadcast_batchnorm_statistics(self.module)
        return log_vars

    def val_step(self, data: Any) -> list:
        return self.module.val_step(data)

    def test_step(self, data: Any) -> list:
        return self.module.test_step(data)

    def forward(self, *args, **kwargs) -> Any:
        return self.module(*args, **kwargs)

    def train(self, mode: bool = True) -> 'UDADataParallel':
        self.training = mode
        self.module.train(mode)
        return self

    def state_dict(self, *args, **kwargs) -> Dict[str, Any]:
        return self.module.state_dict(*args, **kwargs)

    def load_state_dict(self, state_dict: Mapping[str, Any],
                        strict: bool = True, **kwargs) -> Any:
        return self.module.load_state_dict(state_dict, strict, **kwargs)


def wrap_for_data_parallel(model: nn.Module, device: Any) -> nn.Module:
    """The model on ``device``, wrapped in :class:`UDADataParallel` when
    more than one process trains; SyncBN layers become BatchNorm in a
    1-process run and on CPU (torch's SyncBN needs CUDA)."""
    model = model.to(device)
    distributed = is_distributed() and get_world_size() > 1
    if not distributed or torch.device(device).type == 'cpu':
        if distributed and _has_sync_bn(model):
            print_log('SyncBN needs CUDA: on CPU every rank normalises '
                      'with its own batch statistics (BatchNorm)',
                      logger='current', level=logging.WARNING)
        model = revert_sync_batchnorm(model)
    return UDADataParallel(model) if distributed else model


def _has_sync_bn(model: nn.Module) -> bool:
    return any(isinstance(m, nn.SyncBatchNorm) for m in model.modules())


def describe_global_batch(samples_per_gpu: int) -> str:
    """A log line: world size and the global batch it makes."""
    world = get_world_size()
    return (f'data parallel: world size {world}, {samples_per_gpu} samples '
            f'per GPU, global batch {world * samples_per_gpu}')
