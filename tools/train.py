"""Train a segmentor or a UDA method from a config.

    python tools/train.py CONFIG [--work-dir DIR] [--resume | --resume-from CKPT]
        [--load-from CKPT] [--seed N] [--deterministic] [--amp [bf16|fp16]]
        [--compile] [--cfg-options k=v ...] [--debug]

A bad input ends in one line naming the file, key or value (exit status 1);
``--debug`` shows the traceback instead.
"""
import argparse
import os
import os.path as osp
import sys
import time
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.config import (ConfigError,  # noqa: E402
                          add_cfg_options_argument, describe_build_error,
                          load_config, unknown_type_error)
from mmseg.engine.run_dir import interrupted_message  # noqa: E402
from mmseg.engine.toy_assets import prepare_toy_assets  # noqa: E402
from mmseg.utils.cli import (add_debug_argument,  # noqa: E402
                             ensure_output_dir, run_cli)
from mmseg.utils.cpu_threads import apply_cpu_thread_defaults  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--work-dir', help='where logs and checkpoints go')
    parser.add_argument('--load-from', help='initialise the model from it')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work dir')
    parser.add_argument('--resume-from', help='resume from this checkpoint')
    parser.add_argument(
        '--no-validate', action='store_true', help='skip evaluation')
    parser.add_argument('--seed', type=int, help='random seed')
    parser.add_argument(
        '--deterministic',
        action='store_true',
        help='deterministic algorithms (cuDNN, torch)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='allow full unpickling of checkpoint files you trust')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--amp',
        nargs='?',
        const='bf16',
        choices=['bf16', 'fp16'],
        help='mixed precision: bf16 (default, CPU or CUDA) or fp16 (CUDA, '
        'loss scaling); sets the config\'s amp.dtype')
    parser.add_argument(
        '--compile',
        action='store_true',
        help='torch.compile the student, teachers and NFNet (config key '
        'compile=True; a part that does not compile runs eager, with a '
        'warning)')
    add_cfg_options_argument(parser)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def apply_command_line(cfg, args: argparse.Namespace) -> None:
    """Command-line switches take priority over the config."""
    if args.load_from:
        cfg.load_from = args.load_from
    if args.resume_from:
        cfg.resume_from = args.resume_from
    if args.resume:
        cfg.resume = True
    if args.seed is not None:
        cfg.seed = args.seed
    if args.deterministic:
        cfg.deterministic = True
    if args.trust_checkpoint:
        cfg.trust_checkpoint = True
    if args.amp:
        from mmseg.engine.mixed_precision import CLI_DTYPES
        cfg.amp = dict(cfg.get('amp') or {}, dtype=CLI_DTYPES[args.amp])
    if args.compile and not cfg.get('compile'):
        cfg.compile = True
    cfg.launcher = args.launcher


def resolve_work_dir(cfg, args: argparse.Namespace) -> str:
    """CLI > config > ``work_dirs/<config name>``."""
    if args.work_dir:
        return args.work_dir
    if cfg.get('work_dir'):
        return cfg.work_dir
    return osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])


def main(argv: Optional[List[str]] = None):
    # before torch loads OpenMP; the run adapts its threads to contention
    apply_cpu_thread_defaults(passive_when_loaded=False)
    args = parse_args(argv)
    from mmseg.engine.distributed import check_launcher_environment
    check_launcher_environment(args.launcher, os.environ)  # before any work
    cfg = load_config(args.config, args.cfg_options)
    apply_command_line(cfg, args)
    from mmseg.engine.build import apply_host_allocator, build_runner
    apply_host_allocator(cfg)
    from mmseg.engine.cpu_threads_cfg import cpu_threads_from
    cpu_threads_from(cfg)  # refuses a bad cpu_threads before any output
    from mmseg.utils import register_all_modules
    register_all_modules()
    from mmseg.engine.reference import check_reference
    check_reference(cfg.get('reference'), args.config)
    work_dir = ensure_output_dir(resolve_work_dir(cfg, args), 'work dir')
    prepare_toy_assets(cfg)
    cfg.work_dir = work_dir
    start = time.time()
    runner = None
    try:
        runner = build_runner(cfg, work_dir, validate=not args.no_validate)
        runner.train()
    except (KeyError, TypeError) as err:  # unknown type / misspelt key
        unknown = unknown_type_error(err, cfg, args.config)
        if unknown is not None:
            raise unknown from err
        raise ConfigError(
            f'{describe_build_error(err)} (config {args.config})') from err
    except KeyboardInterrupt:  # Ctrl-C: one line, how to go on
        print(interrupted_message(work_dir, runner), flush=True)
        raise SystemExit(130) from None
    runner.logger.info(f'training took {time.time() - start:.1f} s; '
                       f'outputs in {work_dir}')
    from mmengine.dist import is_main_process

    from mmseg.engine.run_dir import next_steps
    if is_main_process():
        print(next_steps(work_dir, cfg), flush=True)
    print_reference(cfg, runner)  # the last line: result beside reference
    return runner


def print_reference(cfg, runner) -> None:
    """Last line: the final validation result beside the config's ``reference`` number."""
    from mmseg.engine.build import eval_title_of
    from mmseg.engine.reference import reference_line
    scalars = runner.message_hub.log_scalars
    metrics = {k[len('val/'):]: v.current() for k, v in scalars.items()
               if k.startswith('val/')}
    line = reference_line(cfg.get('reference'), metrics, eval_title_of(cfg))
    if line:
        print(line, flush=True)


if __name__ == '__main__':
    sys.exit(run_cli(main))
