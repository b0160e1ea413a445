"""Time a training iteration (forward + backward) of a config's model.

Usage:
  python tools/benchmark.py CONFIG [--uda | --inference] [--crop 512 512]
      [--batch 2] [--iters 5] [--warmup 2] [--device cpu|cuda]
      [--amp [bf16|fp16]] [--compile] [--cfg-options k=v ...]
  python -m torch.distributed.run --nproc_per_node N tools/benchmark.py \
      CONFIG --uda --launcher pytorch [options as above]

Without ``--uda`` it times the supervised forward + backward of the config's
segmentor; with ``--uda`` one whole UDA training step of the config's ``uda``
method (student, teachers, ImageNet model, plug-ins, optimiser step); with
``--inference`` the config's test-mode inference (``test_cfg``: whole or
slide, batched windows with ``batched_slide``) of one ``--crop``-sized image
batch, without gradients. ``--compile`` applies ``torch.compile`` to the
networks as ``compile=True`` in a config does (the first, measured step
then includes compilation: look at ``median_s_per_iter``).
``--iters 0`` reports the time of the one measured step (for configs whose
steps take minutes). ``--amp`` trains in mixed precision (bare ``--amp``: bf16; fp16 needs CUDA);
``--cfg-options model.backbone.with_cp=True`` etc. change the model.

Prints a JSON report: ``median_s_per_iter`` (wall clock), ``times_s`` (each
timed step) and ``spread_s`` (their range), ``threads`` (torch's intra-op
threads; the defaults of :mod:`mmseg.utils.cpu_threads` apply, with
``OMP_WAIT_POLICY=PASSIVE`` when the machine is loaded at start; unlike
``tools/train.py``, the count stays fixed during the run) and
``median_cpu_s_per_iter`` (CPU time of the process, all threads: leaves
out the time other jobs hold the CPU, though spinning OpenMP threads inflate
it under contention when ``OMP_WAIT_POLICY=ACTIVE`` or a
``GOMP_SPINCOUNT`` is set); ``peak_memory_mib`` and
``memory_increase_mib`` of one step (CUDA: max allocated; CPU: the process
peak RSS, so compare configs run in separate processes). The optimiser state
and the gradient buffers are created before that step (an optimiser step on
zero gradients), so the increase is what a steady-state step adds to the
parameters, optimiser state and gradients: its activations and temporaries,
what ``with_cp`` and ``--amp`` act on. On CUDA also ``cuda_max_allocated_mib``
and ``achieved_tflops`` (FLOPs of one step counted by
``torch.utils.flop_counter.FlopCounterMode`` over its median time).

Data parallel (``--launcher pytorch`` under torchrun, or ``slurm``; with
``--uda`` only): every process times the UDA step of its own ``--batch``
(per-GPU batch, weak scaling as in multi-GPU HRDA/DAFormer training; global
batch ``world_size x --batch``), set up as ``tools/train.py`` does it
(:mod:`mmseg.engine.distributed`: the process group, rank 0's weights
broadcast after ``init_weights``, :class:`UDADataParallel` averaging the
gradients before the optimiser step; NCCL on CUDA with one GPU per process,
gloo on CPU). Each timed step is bracketed by a barrier of all ranks and
``times_s`` holds each step's slowest rank, so ``median_s_per_iter`` is the
job's time per step. Only rank 0 prints the report; it adds ``world_size``,
``backend``, ``global_batch`` and, per rank in rank order,
``peak_memory_mib_per_rank``, ``memory_increase_mib_per_rank``,
``median_s_per_iter_per_rank`` (the rank's own step times, barriers
included) and ``median_cpu_s_per_iter_per_rank``; ``peak_memory_mib``,
``memory_increase_mib``, ``median_cpu_s_per_iter``, ``first_step_s`` and
``cuda_max_allocated_mib`` are the maxima over the ranks, while
``threads`` is rank 0's and ``tflop_per_iter``/``achieved_tflops`` are per
GPU (rank 0's step). ``--launcher pytorch`` outside torchrun ends in a
one-line error, as in ``tools/train.py``.
``--stage-times`` (with ``--uda``) adds ``stage_ms`` and ``stage_cpu_ms``:
the median wall-clock and CPU milliseconds of each stage of the step
(teachers, pseudo-labels, class similarity, mixing, each backward pass by
loss prefix, the optimiser step; stages nest), from
:class:`mmseg.utils.benchmarking.StageTimer`.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import sys
import time
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

if __name__ == '__main__':  # before torch loads OpenMP (as tools/train.py)
    from mmseg.utils.cpu_threads import apply_cpu_thread_defaults
    apply_cpu_thread_defaults()

import torch  # noqa: E402
from mmengine import Config, DictAction  # noqa: E402

from mmseg.utils.benchmarking import (StageTimer,  # noqa: E402
                                      count_flops, measure_peak_memory,
                                      time_callable)
from mmseg.errors import ConfigError  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402


IMG_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                to_rgb=True)


@contextlib.contextmanager
def stdout_to_stderr():
    """Send this process's and its children's stdout to stderr (notices,
    the one-off toy pretraining's log), so that stdout holds the JSON
    report alone."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def build_model(cfg: Config, device: str, uda: bool) -> torch.nn.Module:
    from mmseg.engine.build import model_cfg_from
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    # stdout is the JSON report: keep the per-parameter init lines out
    from mmengine.logging import MMLogger
    MMLogger.get_instance('benchmark', log_level='WARNING')
    # random weights: the step's time and memory do not depend on them
    cfg.model.pretrained = None
    model = MODELS.build(model_cfg_from(cfg) if uda else cfg.model)
    model.init_weights()
    return model.to(device).train()


def synthetic_batch(batch: int, crop: tuple, num_classes: int,
                    device: str) -> dict:
    h, w = crop
    metas = [dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                  flip=False, img_norm_cfg=IMG_NORM) for _ in range(batch)]
    return dict(
        img=torch.randn(batch, 3, h, w, device=device),
        gt_semantic_seg=torch.randint(0, num_classes, (batch, 1, h, w),
                                      device=device),
        img_metas=metas)


def make_optim_wrapper(model: torch.nn.Module, amp: Optional[str]):
    """AdamW over the trainable parameters, mixed precision with ``amp``.

    Its state (AdamW moments) and the gradient buffers are created here by
    one step on zero gradients, so that the measured step allocates what
    every later step does.
    """
    from mmseg.engine.mixed_precision import CLI_DTYPES
    from mmseg.engine.optim_constructor import \
        TrainableOptimWrapperConstructor
    wrapper_cfg = dict(optimizer=dict(type='AdamW', lr=6e-5))
    if amp:
        wrapper_cfg.update(type='MixedPrecisionOptimWrapper',
                           dtype=CLI_DTYPES[amp])
    wrapper = TrainableOptimWrapperConstructor(wrapper_cfg)(model)
    for group in wrapper.optimizer.param_groups:
        for param in group['params']:
            param.grad = torch.zeros_like(param)
    wrapper.optimizer.step()
    wrapper.optimizer.zero_grad(set_to_none=False)
    return wrapper


def make_uda_step(model: torch.nn.Module, batch: int, crop: tuple,
                  device: str, amp: Optional[str],
                  trainer: Optional[torch.nn.Module] = None
                  ) -> Callable[[], None]:
    """One UDA training step on synthetic source/target/prompt batches.

    ``trainer``: what runs ``train_step`` (default ``model``; data
    parallel: its :class:`~mmseg.engine.distributed.UDADataParallel`)."""
    num_classes = model.model.num_classes
    data = {k: synthetic_batch(batch, crop, num_classes, device)
            for k in ('source', 'target', 'prompt')}
    wrapper = make_optim_wrapper(model, amp)
    trainer = model if trainer is None else trainer

    def step() -> None:
        trainer.train_step(data, wrapper)

    step.optim_wrapper = wrapper  # type: ignore[attr-defined]
    return step


def start_data_parallel(launcher: str, cfg: Config, device: str) -> str:
    """Start the process group as training does; return the backend.

    ``dist_params`` of the config apply; a CPU ``--device`` uses gloo
    unless they name a backend.

    Raises:
        ConfigError: no launcher environment (e.g. ``--launcher pytorch``
            outside torchrun), or a CUDA device with an index (each process
            takes its ``LOCAL_RANK``'s).
        ValueError: a bad ``dist_params`` (see :func:`init_distributed`).
    """
    from mmseg.engine.distributed import init_distributed
    if torch.device(device).type == 'cuda' and \
            torch.device(device).index is not None:
        raise ConfigError(f'--device {device} with --launcher {launcher}: '
                         'each process uses the GPU of its LOCAL_RANK; '
                         'give --device cuda')
    params = dict(cfg.get('dist_params') or {})
    if torch.device(device).type == 'cpu':
        params.setdefault('backend', 'gloo')
    return init_distributed(launcher, params)


def ranks_synchronizer(device: str) -> Callable[[], None]:
    """Wait for queued CUDA work, then for every rank (a barrier; nothing
    in one process), so that a timed step ends with the slowest rank."""
    from mmengine.dist import barrier

    from mmseg.utils.benchmarking import synchronize

    def sync() -> None:
        synchronize(device)
        barrier()

    return sync


def merge_ranks(per_rank: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One measurement from every rank's (in rank order).

    Each entry: ``times_s`` (its timed steps, seconds), ``median_cpu_s``,
    ``first_step_s``, ``peak_bytes``, ``increase_bytes`` and optionally
    ``cuda_max_allocated_bytes``. Returns the job's: ``times_s`` (each
    step's slowest rank), ``median_s`` (their median), the maxima over the
    ranks of the others, and the per-rank lists ``median_s_per_rank``,
    ``median_cpu_s_per_rank``, ``peak_bytes_per_rank``,
    ``increase_bytes_per_rank``.

    Raises:
        ValueError: ranks timed different numbers of steps.
    """
    import statistics
    counts = {len(r['times_s']) for r in per_rank}
    if len(counts) != 1:
        raise ValueError(f'ranks timed different numbers of steps: {counts}')
    times = [max(step) for step in zip(*(r['times_s'] for r in per_rank))]
    merged = dict(
        times_s=times, median_s=statistics.median(times),
        median_cpu_s=max(r['median_cpu_s'] for r in per_rank),
        first_step_s=max(r['first_step_s'] for r in per_rank),
        peak_bytes=max(r['peak_bytes'] for r in per_rank),
        increase_bytes=max(r['increase_bytes'] for r in per_rank),
        median_s_per_rank=[statistics.median(r['times_s'])
                           for r in per_rank],
        median_cpu_s_per_rank=[r['median_cpu_s'] for r in per_rank],
        peak_bytes_per_rank=[r['peak_bytes'] for r in per_rank],
        increase_bytes_per_rank=[r['increase_bytes'] for r in per_rank])
    if all('cuda_max_allocated_bytes' in r for r in per_rank):
        merged['cuda_max_allocated_bytes'] = max(
            r['cuda_max_allocated_bytes'] for r in per_rank)
    return merged


def make_inference_step(model: torch.nn.Module, data: dict,
                        amp: Optional[str]) -> Callable[[], None]:
    """Test-mode inference (``test_cfg``) of the batch, no gradients."""
    from mmseg.engine.mixed_precision import CLI_DTYPES, parse_dtype
    model.eval()
    device = data['img'].device.type
    dtype = parse_dtype(CLI_DTYPES[amp]) if amp else torch.float32

    def step() -> None:
        with torch.no_grad(), torch.autocast(device, dtype=dtype,
                                             enabled=bool(amp)):
            model.inference(data['img'], data['img_metas'], rescale=True)

    return step


def make_supervised_step(model: torch.nn.Module, data: dict,
                         amp: Optional[str]) -> Callable[[], None]:
    """One supervised iteration: loss forward, backward, optimiser step."""
    wrapper = make_optim_wrapper(model, amp)

    def step() -> None:
        wrapper.zero_grad()
        with wrapper.optim_context(model):
            losses = model(**data, mode='loss')
        loss, _ = model.parse_losses(losses)
        wrapper.backward(loss)
        wrapper.step()

    return step


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument('--uda', action='store_true',
                      help='time a whole UDA step of cfg.uda')
    mode.add_argument('--inference', action='store_true',
                      help='time test-mode inference (test_cfg) of a '
                      '--crop sized batch')
    parser.add_argument('--crop', type=int, nargs=2, default=[512, 512])
    parser.add_argument('--batch', type=int, default=2,
                        help='samples per step (data parallel: per process)')
    parser.add_argument('--iters', type=int, default=5,
                        help='timed steps after the measured one; 0: time '
                        'the memory-measuring step itself')
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--device', default='cuda'
                        if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--amp', nargs='?', const='bf16',
                        choices=['bf16', 'fp16'], default=None,
                        help='mixed precision (bare --amp: bf16; fp16 '
                        'needs CUDA)')
    parser.add_argument('--compile', action='store_true',
                        help='torch.compile the networks (config key '
                        'compile=True)')
    parser.add_argument('--stage-times', action='store_true',
                        help='with --uda: median time of each stage of the '
                        'step (teachers, pseudo-labels, class similarity, '
                        'mixing, each backward, optimiser step) in '
                        '"stage_ms"')
    parser.add_argument('--launcher',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none',
                        help='with --uda: time the data-parallel step, one '
                        'process per GPU (pytorch: started by torchrun)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.amp == 'fp16' and torch.device(args.device).type != 'cuda':
        parser.error('--amp fp16 needs a CUDA device (loss scaling); use '
                     '--amp bf16 on CPU')
    if args.launcher != 'none' and not args.uda:
        parser.error(f'--launcher {args.launcher}: only with --uda (the '
                     'data-parallel UDA training step)')
    if args.launcher != 'none' and 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    from mmseg.engine.distributed import check_launcher_environment
    check_launcher_environment(args.launcher, os.environ)  # before any work
    from mmengine.dist import all_gather_object, get_rank, get_world_size

    from mmseg.config import load_config
    backend = None
    with stdout_to_stderr():  # stdout is the JSON report alone
        cfg = load_config(args.config, args.cfg_options)
        from mmseg.engine.build import apply_host_allocator
        host_allocator, host_allocator_applied = apply_host_allocator(cfg)
        if args.launcher != 'none':  # as tools/train.py: before any model
            backend = start_data_parallel(args.launcher, cfg, args.device)
        if cfg.get('toy_pretrained'):  # frozen parts (a DNIS encoder) load it
            from mmseg.engine.toy_assets import ensure_toy_pretrained
            ensure_toy_pretrained(**cfg.toy_pretrained)
        model = build_model(cfg, args.device, args.uda)
        trainer = model
        if backend is not None:  # as the runner: rank 0's weights, wrapper
            from mmseg.engine.distributed import (broadcast_module_state,
                                                  wrap_for_data_parallel)
            broadcast_module_state(model)
            trainer = wrap_for_data_parallel(model, args.device)
            model = getattr(trainer, 'module', trainer)
    world_size = get_world_size()
    compile_cfg = cfg.get('compile') or args.compile
    if compile_cfg:
        from mmseg.models.utils.compiling import compile_networks
        compile_networks(model, compile_cfg)
    if args.inference:
        data = synthetic_batch(args.batch, tuple(args.crop),
                               model.num_classes, args.device)
        step = make_inference_step(model, data, args.amp)
    elif args.uda:
        step = make_uda_step(model, args.batch, tuple(args.crop),
                             args.device, args.amp, trainer)
    else:
        data = synthetic_batch(args.batch, tuple(args.crop),
                               model.num_classes, args.device)
        step = make_supervised_step(model, data, args.amp)
    stages = None
    if args.stage_times and args.uda:
        stages = StageTimer(args.device)
        stages.wrap_uda_step(model, step.optim_wrapper)
    sync = ranks_synchronizer(args.device)  # one process: CUDA sync only
    sync()
    start, cpu_start = time.perf_counter(), time.process_time()
    memory = measure_peak_memory(step, args.device)  # synchronises CUDA
    first_step_s = time.perf_counter() - start
    first_cpu_s = time.process_time() - cpu_start
    if args.iters > 0:
        if stages is not None:
            stages.reset_after(args.warmup)
        timing = time_callable(step, args.iters, args.warmup, args.device,
                               sync)
    else:  # heavy configs: time the measured step itself
        timing = dict(median_s=first_step_s, median_cpu_s=first_cpu_s,
                      times_s=[first_step_s])
    cuda = torch.device(args.device).type == 'cuda'
    flops = None
    if cuda:
        if stages is not None:
            stages.enabled = False
        flops = count_flops(step)  # every rank: the step communicates
    measured = dict(times_s=timing['times_s'],
                    median_cpu_s=timing['median_cpu_s'],
                    first_step_s=first_step_s,
                    peak_bytes=memory['peak_bytes'],
                    increase_bytes=memory['increase_bytes'])
    if cuda:
        measured['cuda_max_allocated_bytes'] = \
            torch.cuda.max_memory_allocated(args.device)
    job = merge_ranks(all_gather_object(measured))
    report = dict(config=args.config, uda=args.uda,
                  inference=args.inference, compile=bool(compile_cfg),
                  device=args.device, amp=args.amp,
                  cfg_options=args.cfg_options or {},
                  host_allocator=host_allocator,
                  host_allocator_applied=host_allocator_applied,
                  batch=args.batch, crop=args.crop,
                  median_s_per_iter=round(job['median_s'], 4),
                  median_cpu_s_per_iter=round(job['median_cpu_s'], 4),
                  times_s=[round(t, 4) for t in job['times_s']],
                  spread_s=round(max(job['times_s']) -
                                 min(job['times_s']), 4),
                  threads=torch.get_num_threads(),
                  first_step_s=round(job['first_step_s'], 4),
                  peak_memory_mib=round(job['peak_bytes'] / 2**20, 1),
                  memory_increase_mib=round(
                      job['increase_bytes'] / 2**20, 1),
                  memory_kind=memory['kind'])
    if backend is not None:
        report.update(
            launcher=args.launcher, world_size=world_size, backend=backend,
            global_batch=world_size * args.batch,
            median_s_per_iter_per_rank=[
                round(t, 4) for t in job['median_s_per_rank']],
            median_cpu_s_per_iter_per_rank=[
                round(t, 4) for t in job['median_cpu_s_per_rank']],
            peak_memory_mib_per_rank=[
                round(b / 2**20, 1) for b in job['peak_bytes_per_rank']],
            memory_increase_mib_per_rank=[
                round(b / 2**20, 1) for b in job['increase_bytes_per_rank']])
    if stages is not None:
        report['stage_ms'] = stages.median_ms()
        report['stage_cpu_ms'] = stages.median_ms(cpu=True)
    if cuda:
        report.update(
            cuda_max_allocated_mib=round(
                job['cuda_max_allocated_bytes'] / 2**20, 1),
            tflop_per_iter=round(flops / 1e12, 3),
            achieved_tflops=round(flops / job['median_s'] / 1e12, 2))
    if get_rank() == 0:
        print(json.dumps(report, indent=1), flush=True)
    if backend is not None:
        from mmseg.engine.distributed import shutdown_distributed
        shutdown_distributed()
    return report


if __name__ == '__main__':
    sys.exit(run_cli(main))
