"""Run the speed and memory benchmark cases and write one report.

    python tools/benchmark_suite.py [--quick] [--out DIR] [--device cpu|cuda]
        [--cases NAME ...] [--iters N] [--warmup N] [--batch N] [--budget-s S]
        [--case-timeout-s S] [--memory-guard-gib G]

Each case runs ``tools/benchmark.py`` in its own process (so peak memory
figures do not mix) and the suite writes ``DIR/report.json`` (every case's
full benchmark report, its status and the environment) and
``DIR/report.md`` (the table ``docs/speed.md`` shows). Cases (see
:func:`suite_cases`): the HRDA Cityscapes -> Dark Zurich training step and the
full EGLP step at the configs' own crop size and batch, each fp32, bf16,
bf16 + activation checkpointing (``with_cp``) and bf16 + ``torch.compile``;
HRDA slide inference of a 1024x2048 image (fp32, bf16); the source-only step
of the HRDA student (the UDA overhead ratio); with 2+ CUDA GPUs the 2-GPU
DACS step (otherwise skipped, with the reason). ``--quick`` runs the same
cases on MiT-B0 toy configs with 256x256 crops (minutes on a laptop CPU).

The 2-GPU DACS step (``dacs_step_2gpu_bf16``) is the HRDA bf16 UDA step
data parallel over 2 processes: torchrun (``python -m
torch.distributed.run --nproc_per_node 2 --master_port <free port>``)
starts ``tools/benchmark.py --launcher pytorch``, NCCL, one GPU per
process, the same per-GPU batch as ``hrda_step_bf16`` (weak scaling, as
multi-GPU HRDA/DAFormer training). Its row shows the scaling efficiency,
``ratios['dacs_2gpu_scaling_efficiency']`` = s/iter of ``hrda_step_bf16``
(1 GPU) / s/iter of the 2-GPU step: 1.0 is perfect weak scaling (two
GPUs do twice the samples in the time one does its own), 0.5 means the
second GPU adds nothing. On a CPU the case is skipped (a CPU does not
measure GPU scaling) unless it is named in ``--cases``: then it runs as 2
CPU processes with gloo, one thread each (options ``2 processes (gloo)``),
a check that the data-parallel runner works; its efficiency then compares
one process using every core with two sharing them.

All networks are randomly initialised (no weight file is read: timing and
memory do not depend on the weights). A case that runs out of memory (CUDA
OOM, or on CPU the ``--memory-guard-gib`` limit on the process's data
segment) is reported as ``out of memory`` with the allocation it asked for;
a failing case is reported with its last error line; cases left when
``--budget-s`` is spent are reported as skipped. Exit status 0 when the
report was written, whatever the cases' outcomes.
"""
import argparse
import json
import os
import os.path as osp
import platform
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO_ROOT)

from mmseg.errors import ConfigError  # noqa: E402

HRDA_CONFIG = 'configs/hrda/csHR2dzurHR_hrda.py'
EGLP_CONFIG = 'configs/pig/eglp_city2dz.py'
QUICK_HRDA_CONFIG = 'configs/toy/toy_hrda_daformer_mitb0.py'
QUICK_EGLP_CONFIG = 'configs/benchmark/eglp_quick_mitb0.py'
#: random LPIPS/AlexNet for the full EGLP config (no weight files)
EGLP_RANDOM_LPIPS = ('uda.dms.similarity.lpips.pretrained=False',)
NO_TOY_PRETRAINING = ('toy_pretrained=None',)
#: a case is not started with less of the time budget left (seconds)
MIN_CASE_S = 30.0
#: default time budgets (seconds): the full suite on a GPU inside 8 minutes,
#: ``--quick`` on a CPU inside 10 (a case cut at the budget gets up to
#: TERMINATE_GRACE_S more to end its processes)
GPU_BUDGET_S = 480.0
QUICK_CPU_BUDGET_S = 540.0
#: data-parallel case -> the single-GPU case with the same per-GPU work
SCALING_BASELINES = {'dacs_step_2gpu_bf16': 'hrda_step_bf16'}
#: seconds a timed-out case gets to end its processes after SIGTERM
TERMINATE_GRACE_S = 30.0


@dataclass
class Case:
    """One ``tools/benchmark.py`` process."""
    name: str
    config: str
    mode: str  # 'uda', 'supervised' or 'inference'
    dtype: str = 'fp32'  # 'fp32' or 'bf16'
    crop: Tuple[int, int] = (1024, 1024)
    batch: int = 2
    iters: int = 5
    warmup: int = 2
    compile: bool = False
    with_cp: bool = False
    cfg_options: Tuple[str, ...] = ()
    stage_times: bool = False
    gpus: int = 1
    skip_reason: str = ''

    @property
    def options(self) -> str:
        """The table's options column (on GPUs)."""
        return self.options_on('cuda')

    def options_on(self, device: str) -> str:
        """The options column on ``device`` (a data-parallel case runs as
        CPU processes with gloo on ``'cpu'``)."""
        opts = [f'{self.crop[0]}x{self.crop[1]}', f'batch {self.batch}']
        if self.with_cp:
            opts.append('with_cp')
        if self.compile:
            opts.append('compile')
        if self.gpus > 1:
            opts.append(f'{self.gpus} processes (gloo)' if device == 'cpu'
                        else f'{self.gpus} GPUs')
        return ', '.join(opts)


def step_cases(prefix: str, config: str, crop: Tuple[int, int], batch: int,
               iters: int, warmup: int, extra: Sequence[str] = (),
               stage_times: bool = False) -> List[Case]:
    """fp32, bf16, bf16 + with_cp, bf16 + compile of one UDA step."""
    common = dict(config=config, mode='uda', crop=crop, batch=batch,
                  iters=iters, warmup=warmup, stage_times=stage_times)
    return [
        Case(f'{prefix}_fp32', cfg_options=tuple(extra), **common),
        Case(f'{prefix}_bf16', dtype='bf16', cfg_options=tuple(extra),
             **common),
        Case(f'{prefix}_bf16_cp', dtype='bf16', with_cp=True,
             cfg_options=tuple(extra) + ('model.backbone.with_cp=True',),
             **common),
        Case(f'{prefix}_bf16_compile', dtype='bf16', compile=True,
             cfg_options=tuple(extra), **common),
    ]


def suite_cases(quick: bool = False, gpus: int = 0) -> List[Case]:
    """The cases in run order (the slow ``compile`` cases last).

    Full size: the configs' own crops (1024x1024, batch 2; HR detail crops
    512) and a 1024x2048 inference image; 2 warm-up and 5 timed steps per
    case (1 and 3 for ``compile``, whose first step compiles). Planned for an
    H100 inside 8 minutes from HRDA's 2.9 s/iter on a Titan RTX (an H100 is
    4-8x faster in bf16): about 20 s per process to start and build, 8
    steps of at most 1-2 s (EGLP: 2-3x HRDA), 1-3 min per compile case;
    ``--budget-s`` skips what would not fit. ``--quick``: MiT-B0 toy
    configs, 256x256 crops, 256x512 inference, 1 warm-up and 3 timed
    steps.
    """
    if quick:
        crop, infer_crop, it, wu = (256, 256), (256, 512), 3, 1
        hrda, eglp = QUICK_HRDA_CONFIG, QUICK_EGLP_CONFIG
        hrda_extra: Tuple[str, ...] = NO_TOY_PRETRAINING
        eglp_extra: Tuple[str, ...] = ()
    else:
        crop, infer_crop, it, wu = (1024, 1024), (1024, 2048), 5, 2
        hrda, eglp = HRDA_CONFIG, EGLP_CONFIG
        hrda_extra, eglp_extra = (), EGLP_RANDOM_LPIPS
    hrda_steps = step_cases('hrda_step', hrda, crop, 2, it, wu, hrda_extra)
    eglp_steps = step_cases('eglp_step', eglp, crop, 2, it, wu, eglp_extra,
                            stage_times=True)
    cases = hrda_steps[:3] + eglp_steps[:3]
    cases += [
        Case('hrda_slide_inference_fp32', hrda, 'inference',
             crop=infer_crop, batch=1, iters=it, warmup=1,
             cfg_options=hrda_extra),
        Case('hrda_slide_inference_bf16', hrda, 'inference', dtype='bf16',
             crop=infer_crop, batch=1, iters=it, warmup=1,
             cfg_options=hrda_extra),
        Case('hrda_source_only_fp32', hrda, 'supervised', crop=crop,
             batch=2, iters=it, warmup=wu, cfg_options=hrda_extra),
        Case('dacs_step_2gpu_bf16', hrda, 'uda', dtype='bf16', crop=crop,
             batch=2, iters=it, warmup=wu, gpus=2, cfg_options=hrda_extra,
             skip_reason='' if gpus >= 2 else
             f'needs 2 CUDA GPUs ({gpus} here); on a CPU name it in '
             '--cases for a 2-process gloo check'),
    ]
    for case in (hrda_steps[3], eglp_steps[3]):  # compile last
        case.iters, case.warmup = max(1, it - 2), 1
        cases.append(case)
    return cases


def default_budget_s(device: str, quick: bool) -> Optional[float]:
    """The suite's time budget in seconds when ``--budget-s`` is not given:
    :data:`GPU_BUDGET_S` on CUDA, :data:`QUICK_CPU_BUDGET_S` for ``--quick``
    on a CPU (on a machine whose inductor cache is cold the first ``compile``
    case alone can take minutes; it is then cut and reported as
    ``timeout``), None (no bound) for the full suite on a CPU."""
    if device == 'cuda':
        return GPU_BUDGET_S
    return QUICK_CPU_BUDGET_S if quick else None


def free_port() -> int:
    """A TCP port free on this host now (bound to port 0, then released)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def case_command(case: Case, device: str, python: str = sys.executable,
                 port: Optional[int] = None) -> List[str]:
    """The ``tools/benchmark.py`` command line of ``case``; for a case on
    ``gpus > 1`` processes, torchrun starting one per GPU (``--launcher
    pytorch``; ``port``: the master's, default a free one)."""
    launch = [python]
    if case.gpus > 1:
        launch += ['-m', 'torch.distributed.run', '--nnodes', '1',
                   '--nproc_per_node', str(case.gpus), '--master_addr',
                   '127.0.0.1', '--master_port',
                   str(port if port is not None else free_port())]
    cmd = launch + [
        osp.join(REPO_ROOT, 'tools', 'benchmark.py'), case.config,
           '--crop', str(case.crop[0]), str(case.crop[1]),
           '--batch', str(case.batch), '--iters', str(case.iters),
           '--warmup', str(case.warmup), '--device', device]
    if case.mode == 'uda':
        cmd.append('--uda')
    elif case.mode == 'inference':
        cmd.append('--inference')
    if case.dtype == 'bf16':
        cmd += ['--amp', 'bf16']
    if case.compile:
        cmd.append('--compile')
    if case.stage_times:
        cmd.append('--stage-times')
    if case.gpus > 1:
        cmd += ['--launcher', 'pytorch']
    if case.cfg_options:
        cmd += ['--cfg-options', *case.cfg_options]
    return cmd


def case_environment(case: Case) -> Optional[Dict[str, str]]:
    """The environment of a data-parallel case: the suite's CPU threads
    (``OMP_NUM_THREADS``, else the CPUs this process may use) shared by its
    processes, at least one each; ``None`` (inherit) for a one-process
    case."""
    if case.gpus <= 1:
        return None
    from mmseg.utils.cpu_threads import usable_cpus
    threads = int(os.environ.get('OMP_NUM_THREADS') or usable_cpus())
    return dict(os.environ,
                OMP_NUM_THREADS=str(max(1, threads // case.gpus)))


_CUDA_OOM = re.compile(r'CUDA out of memory\. Tried to allocate '
                       r'([\d.]+) (B|KiB|MiB|GiB)')
_CPU_OOM = re.compile(r"can't allocate memory: you tried to allocate "
                      r'(\d+) bytes')
_UNITS = {'B': 2**-20, 'KiB': 2**-10, 'MiB': 1.0, 'GiB': 2**10}


def classify_failure(stderr: str) -> Dict[str, Any]:
    """Status of a failed case from its stderr: ``out of memory`` (with
    ``asked_mib``, the allocation that failed) or ``failed`` (with its last
    error line)."""
    match = _CUDA_OOM.search(stderr)
    if match:
        return dict(status='out of memory', asked_mib=round(
            float(match.group(1)) * _UNITS[match.group(2)], 1))
    match = _CPU_OOM.search(stderr)
    if match:
        return dict(status='out of memory',
                    asked_mib=round(int(match.group(1)) / 2**20, 1))
    if 'MemoryError' in stderr or 'OutOfMemoryError' in stderr:
        return dict(status='out of memory', asked_mib=None)
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    return dict(status='failed', error=lines[-1] if lines else 'no output')


def memory_guard(limit_bytes: Optional[int]):
    """A child-process hook capping its data segment (heap and private
    mappings: every tensor) at ``limit_bytes``, so that an oversized CPU
    case fails with an allocation error instead of exhausting the machine."""
    if not limit_bytes:
        return None

    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_DATA, (limit_bytes, limit_bytes))

    return set_limit


def run_case(case: Case, device: str, timeout_s: float,
             guard_bytes: Optional[int]) -> Dict[str, Any]:
    """Run one case; its result row (``status`` 'ok' with ``report``, or
    'skipped', 'timeout', 'out of memory', 'failed')."""
    # a skipped case shows its options as planned (on GPUs)
    shown_on = 'cuda' if case.skip_reason else device
    row: Dict[str, Any] = dict(case=asdict(case), name=case.name,
                               options=case.options_on(shown_on),
                               dtype=case.dtype, device=device)
    if case.skip_reason:
        return dict(row, status='skipped', reason=case.skip_reason)
    cmd = case_command(case, device)
    row['command'] = ' '.join(
        [osp.relpath(c, REPO_ROOT) if c.startswith(REPO_ROOT) else c
         for c in cmd[1:]])
    if guard_bytes and case.gpus > 1:  # the limit holds per process
        guard_bytes //= case.gpus
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True,  # its own process group
        env=case_environment(case),
        preexec_fn=memory_guard(guard_bytes if device == 'cpu' else None))
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:  # the case and its compile workers
        end_process_group(proc)
        return dict(row, status='timeout', wall_s=round(timeout_s, 1))
    row['wall_s'] = round(time.perf_counter() - start, 1)
    if proc.returncode != 0:
        row.update(classify_failure(stderr), returncode=proc.returncode)
        guarded = device == 'cpu' and bool(guard_bytes)
        if proc.returncode < 0:  # killed: no Python error line to show
            name = signal.Signals(-proc.returncode).name
            row['error'] = f'killed by {name}'
            if guarded and -proc.returncode in (signal.SIGABRT,
                                                signal.SIGSEGV):
                # an allocation past the guard outside torch's allocator
                # (std::bad_alloc -> abort) ends the process this way
                row.update(status='out of memory', asked_mib=None)
        if row['status'] == 'out of memory' and guarded:
            row['limit_mib'] = round(guard_bytes / 2**20, 1)
        return row
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError:
        return dict(row, status='failed',
                    error=f'no JSON report: {stdout[-200:]!r}')
    return dict(row, status='ok', report=report)


def end_process_group(proc: subprocess.Popen) -> None:
    """Stop a case: SIGTERM to its process group (torchrun then ends its
    workers, which run in sessions of their own), after
    :data:`TERMINATE_GRACE_S` SIGKILL to whatever is left of the group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:  # the group has ended
            pass
        if sig == signal.SIGTERM:
            try:
                proc.communicate(timeout=TERMINATE_GRACE_S)
            except subprocess.TimeoutExpired:
                pass
    proc.wait()  # not its pipes: a stray worker may still hold them
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()


def cpu_name() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str) -> Dict[str, Any]:
    """Versions, hardware, threads, host allocator and load of this run."""
    import torch

    from mmseg.utils.cpu_threads import describe_cpu_threads
    env = dict(
        torch=torch.__version__, cuda=torch.version.cuda,
        device=device, gpu=None, gpus=torch.cuda.device_count(),
        cpu=cpu_name(), python=platform.python_version(),
        threads=describe_cpu_threads(),
        host_allocator='retain (project default; config key host_allocator)',
        load_average=os.getloadavg(),
        date=time.strftime('%Y-%m-%d %H:%M %Z'))
    if device == 'cuda' and torch.cuda.is_available():
        env['gpu'] = torch.cuda.get_device_name(0)
    return env


def _mib(value: Optional[float]) -> str:
    if value is None:
        return ''
    return f'{value / 1024:.1f} GiB' if value >= 1024 else f'{value:.0f} MiB'


def table_row(row: Dict[str, Any], note: str = '') -> str:
    """One markdown row: case | device | dtype | options | s/iter median
    (spread) | CPU s/iter | peak memory | TFLOP/s | status (``ok``, then
    ``note``, e.g. the scaling efficiency, on a case that ran)."""
    status = row['status']
    cells = [row['name'], row['device'], row['dtype'], row['options']]
    if status != 'ok':
        detail = row.get('reason') or row.get('error') or ''
        if status == 'out of memory':
            detail = ('' if row.get('asked_mib') is None else
                      f'asked for {_mib(row["asked_mib"])} more')
            if row.get('limit_mib'):
                detail += (' beyond' if detail else 'reached') + \
                    f' the {_mib(row["limit_mib"])} guard'
            if row.get('error'):
                detail += f' ({row["error"]})'
        note = f'{status}: {detail}' if detail else status
        return '| ' + ' | '.join(cells + ['', '', '', '', note]) + ' |'
    rep = row['report']
    speed = f'{rep["median_s_per_iter"]:.3g} (±{rep["spread_s"] / 2:.2g})'
    peak = rep.get('cuda_max_allocated_mib', rep['peak_memory_mib'])
    tflops = rep.get('achieved_tflops')
    cells += [speed, f'{rep["median_cpu_s_per_iter"]:.3g}', _mib(peak),
              '' if tflops is None else f'{tflops:.1f}',
              f'ok; {note}' if note else 'ok']
    return '| ' + ' | '.join(cells) + ' |'


def scaling_efficiencies(rows: List[Dict[str, Any]]) -> Dict[str, float]:
    """Weak-scaling efficiency of each data-parallel case that ran.

    ``efficiency = t_1 / t_N``: ``t_1`` the s/iter of its single-GPU case
    (:data:`SCALING_BASELINES`), ``t_N`` its own, at equal per-GPU batch and
    crop on the same device (otherwise not computed). 1.0 is perfect weak
    scaling (N GPUs do N times the samples in the time one does its own);
    ``1/N`` means the extra GPUs add nothing; on a CPU it compares one
    process on all cores with N processes sharing them.
    """
    ok = {r['name']: r for r in rows if r['status'] == 'ok'}
    out = {}
    for name, baseline in SCALING_BASELINES.items():
        if name not in ok or baseline not in ok:
            continue
        many, one = ok[name], ok[baseline]
        same = all(many['report'].get(k) == one['report'].get(k)
                   for k in ('batch', 'crop', 'device'))
        if same and many['report']['median_s_per_iter']:
            out[name] = round(one['report']['median_s_per_iter'] /
                              many['report']['median_s_per_iter'], 2)
    return out


def scaling_note(name: str, efficiencies: Dict[str, float]) -> str:
    """The status note of a data-parallel row with its efficiency."""
    if name not in efficiencies:
        return ''
    return (f'scaling efficiency {efficiencies[name]:.2f} (vs '
            f'{SCALING_BASELINES[name]})')


def ratios(rows: List[Dict[str, Any]]) -> Dict[str, float]:
    """UDA overhead (HRDA UDA step / source-only step, fp32), EGLP over
    HRDA step, and the 2-GPU step's weak-scaling efficiency
    (``dacs_2gpu_scaling_efficiency``, :func:`scaling_efficiencies`),
    where both cases ran."""
    by = {r['name']: r['report'] for r in rows if r['status'] == 'ok'}

    def ratio(a: str, b: str, key: str = 'median_s_per_iter'):
        if a in by and b in by and by[b][key]:
            return round(by[a][key] / by[b][key], 2)
        return None

    out = dict(
        uda_over_source_only=ratio('hrda_step_fp32', 'hrda_source_only_fp32'),
        uda_over_source_only_cpu_time=ratio(
            'hrda_step_fp32', 'hrda_source_only_fp32',
            'median_cpu_s_per_iter'),
        eglp_over_hrda=ratio('eglp_step_fp32', 'hrda_step_fp32'),
        dacs_2gpu_scaling_efficiency=scaling_efficiencies(rows).get(
            'dacs_step_2gpu_bf16'))
    return {k: v for k, v in out.items() if v is not None}


def stage_table(rows: List[Dict[str, Any]]) -> List[str]:
    """Markdown: the per-stage medians of the cases that timed stages."""
    timed = [r for r in rows
             if r['status'] == 'ok' and r['report'].get('stage_ms')]
    if not timed:
        return []
    names: List[str] = []
    for r in timed:
        names += [n for n in r['report']['stage_ms'] if n not in names]
    head = ['stage'] + [f'{r["name"]} wall ms / CPU ms' for r in timed]
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    for name in names:
        cells = [name]
        for r in timed:
            wall = r['report']['stage_ms'].get(name)
            cpu = r['report'].get('stage_cpu_ms', {}).get(name)
            cells.append('' if wall is None else f'{wall:.0f} / {cpu:.0f}')
        lines.append('| ' + ' | '.join(cells) + ' |')
    return lines


def _budget_text(budget_s: Optional[float]) -> str:
    return 'none' if budget_s is None else f'{budget_s:.0f} s'


def markdown(env: Dict[str, Any], rows: List[Dict[str, Any]],
             quick: bool) -> str:
    lines = [
        f'# Benchmark suite{" (--quick)" if quick else ""}', '',
        f'torch {env["torch"]}, CUDA {env["cuda"]}, GPU {env["gpu"]}, '
        f'CPU {env["cpu"]}; {env["threads"]}; host allocator '
        f'{env["host_allocator"]}; load average at start '
        f'{", ".join(f"{v:.1f}" for v in env["load_average"])}; '
        f'time budget {_budget_text(env.get("budget_s"))}; '
        f'{env["date"]}.', '',
        's/iter: median wall-clock seconds per step (± half the range of '
        'the timed steps); CPU s/iter: the process\'s CPU time per step '
        '(all threads); peak memory: CUDA max allocated on GPU, the '
        'process\'s peak RSS on CPU (data-parallel cases: the largest of '
        'their processes\'; batch is per process); TFLOP/s: FLOPs of one step '
        '(torch.utils.flop_counter) over the median time, GPU only.', '',
        '| case | device | dtype | options | s/iter (spread) | CPU s/iter '
        '| peak memory | TFLOP/s | status |',
        '|---|---|---|---|---|---|---|---|---|']
    efficiencies = scaling_efficiencies(rows)
    lines += [table_row(r, scaling_note(r['name'], efficiencies))
              for r in rows]
    extra = ratios(rows)
    if extra:
        lines += ['', 'Ratios: ' + ', '.join(f'{k} {v}'
                                             for k, v in extra.items())]
    stages = stage_table(rows)
    if stages:
        lines += ['', 'Stages of the EGLP step (medians; stages nest: a '
                  'stage includes those it calls):', ''] + stages
    return '\n'.join(lines) + '\n'


def write_report(out_dir: str, env: Dict[str, Any],
                 rows: List[Dict[str, Any]], quick: bool) -> None:
    """``report.json`` and ``report.md`` into ``out_dir`` (rewritten after
    every case, so an interrupted suite keeps what it measured)."""
    os.makedirs(out_dir, exist_ok=True)
    with open(osp.join(out_dir, 'report.json'), 'w') as f:
        json.dump(dict(environment=env, quick=quick, cases=rows,
                       ratios=ratios(rows)), f, indent=1)
    with open(osp.join(out_dir, 'report.md'), 'w') as f:
        f.write(markdown(env, rows, quick))


def default_guard_gib() -> float:
    """85% of the memory available now (Linux), else 0 (no guard)."""
    try:
        with open('/proc/meminfo') as f:
            for line in f:
                if line.startswith('MemAvailable:'):
                    return round(int(line.split()[1]) / 2**20 * 0.85, 1)
    except OSError:
        pass
    return 0.0


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true',
                        help='MiT-B0 toy configs, small crops (minutes on '
                        'a CPU)')
    parser.add_argument('--out', default='work_dirs/benchmark_suite',
                        help='folder for report.json and report.md')
    parser.add_argument('--device', default=None,
                        help='cpu or cuda (default: cuda when available)')
    parser.add_argument('--cases', nargs='+', default=None,
                        help='run only these cases (names as in the '
                        'report; on a CPU a data-parallel case named here '
                        'runs as gloo processes)')
    parser.add_argument('--iters', type=int, default=None,
                        help='timed steps of every case (default: the '
                        'plan, see suite_cases; 0: time the memory-measuring '
                        'step itself, for full-size cases on a CPU)')
    parser.add_argument('--batch', type=int, default=None,
                        help='batch of every step and inference case '
                        '(default: the configs\' own, 2; inference 1)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='untimed steps of every case (default: the plan)')
    parser.add_argument('--budget-s', type=float, default=None,
                        help='skip the cases left after this many seconds '
                        '(default: 480 on GPU, 540 for --quick on CPU, none '
                        'for the full suite on CPU; 0: none)')
    parser.add_argument('--case-timeout-s', type=float, default=1800,
                        help='stop a case after this many seconds')
    parser.add_argument('--memory-guard-gib', type=float, default=None,
                        help='CPU: cap each case\'s data memory (default '
                        '85%% of the memory available at start; 0: none)')
    from mmseg.utils.cli import add_debug_argument
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    from mmseg.utils.cpu_threads import apply_cpu_thread_defaults
    apply_cpu_thread_defaults()  # the cases inherit it (before torch)
    args = parse_args(argv)
    import torch
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device not in ('cpu', 'cuda'):
        raise ConfigError(f'--device must be cpu or cuda, got {device!r}')
    gpus = torch.cuda.device_count() if device == 'cuda' else 0
    cases = suite_cases(args.quick, gpus)
    if args.cases:
        known = [c.name for c in cases]
        unknown = sorted(set(args.cases) - set(known))
        if unknown:
            raise ConfigError(f'--cases: unknown case(s) {unknown}; known: '
                             f'{known}')
        cases = [c for c in cases if c.name in args.cases]
        if device == 'cpu':  # named: a data-parallel check with gloo
            for case in cases:
                if case.gpus > 1:
                    case.skip_reason = ''
    for case in cases:
        if args.iters is not None:
            case.iters = args.iters
        if args.warmup is not None:
            case.warmup = args.warmup
        if args.batch is not None:
            case.batch = args.batch
    if args.budget_s is not None and args.budget_s < 0:
        raise ConfigError(f'--budget-s: a number of seconds >= 0 (0: no '
                         f'budget), got {args.budget_s:g}')
    budget = (default_budget_s(device, args.quick) if args.budget_s is None
              else args.budget_s or None)
    guard_gib = (default_guard_gib() if args.memory_guard_gib is None
                 else args.memory_guard_gib)
    env = dict(environment(device), memory_guard_gib=guard_gib or None,
               budget_s=budget)
    rows: List[Dict[str, Any]] = []
    start = time.perf_counter()
    for case in cases:
        spent = time.perf_counter() - start
        left = None if budget is None else budget - spent
        if left is not None and left < MIN_CASE_S and not case.skip_reason:
            case.skip_reason = (f'under {MIN_CASE_S:.0f} s of the '
                                f'{budget:.0f} s time budget left')
        timeout = args.case_timeout_s
        if left is not None:  # the suite ends within the budget
            timeout = max(1.0, min(timeout, left))
        print(f'[{spent:6.0f} s] {case.name} ...', flush=True)
        row = run_case(case, device, timeout,
                       int(guard_gib * 2**30) if guard_gib else None)
        rows.append(row)
        print(table_row(row, scaling_note(row['name'],
                                          scaling_efficiencies(rows))),
              flush=True)
        write_report(args.out, env, rows, args.quick)
    env['suite_wall_s'] = round(time.perf_counter() - start, 1)
    write_report(args.out, env, rows, args.quick)
    print(f'report: {osp.join(args.out, "report.md")}')
    return dict(environment=env, cases=rows)


if __name__ == '__main__':
    from mmseg.utils.cli import run_cli
    sys.exit(run_cli(main))
