"""Train one config, or a sweep of generated configs, as in HRDA/DAFormer.

    python run_experiments.py --config configs/toy/toy_hrda_mitb0.py
    python run_experiments.py --exp 1            # the sweep of experiments.py id 1
    python run_experiments.py --exp 1 --dry-run  # only write the generated configs
    python run_experiments.py --resume WORK_DIR  # continue a run from its last checkpoint

Each run gets ``work_dirs/<exp_name>/<yymmdd_HHMM>_<name>_<id>`` (config dump,
log, checkpoints) and its generated config under ``configs/generated/``.
"""
import argparse
import gc
import os
import os.path as osp
import subprocess
import sys
import uuid
from datetime import datetime
from typing import Dict, List, Optional

from mmengine.config import Config

from mmseg.config import add_cfg_options_argument, as_arguments
from mmseg.utils.cli import run_cli
from mmseg.utils.cpu_threads import apply_cpu_thread_defaults

REPO_ROOT = osp.dirname(osp.abspath(__file__))
GENERATED_DIR = osp.join(REPO_ROOT, 'configs', 'generated')


def git_rev() -> str:
    try:
        return subprocess.check_output(
            ['git', 'rev-parse', '--short', 'HEAD'],
            cwd=REPO_ROOT,
            stderr=subprocess.DEVNULL).decode().strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def unique_name(name: str) -> str:
    stamp = datetime.now().strftime('%y%m%d_%H%M%S')
    return f'{stamp}_{name}_{uuid.uuid4().hex[:5]}'


def write_config(cfg_dict: Dict, path: str) -> str:
    """Write a config given as data (a dict, ``_base_`` included) to ``path``."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    Config(cfg_dict).dump(path)
    return path


def child_config(base_file: str, exp_name: str, overrides: Dict) -> str:
    """A generated config that inherits ``base_file`` and adds ``overrides``."""
    if not osp.isfile(base_file):
        raise FileNotFoundError(f'config file not found: {base_file}')
    base_cfg = Config.fromfile(base_file)
    name = overrides.get('name') or base_cfg.get('name') or osp.splitext(
        osp.basename(base_file))[0]
    run_name = unique_name(name)
    path = osp.join(GENERATED_DIR, exp_name, f'{run_name}.py')
    cfg = dict(
        _base_=[osp.relpath(osp.abspath(base_file), osp.dirname(path))],
        name=name,
        work_dir=osp.join('work_dirs', exp_name, run_name),
        git_rev=git_rev())
    cfg.update({k: v for k, v in overrides.items() if k != 'name'})
    return write_config(cfg, path)


def generated_configs(exp_id: int,
                      seeds: Optional[List[int]] = None) -> List[str]:
    """Write the configs of sweep ``exp_id`` and return their paths."""
    from experiments import SEEDS, generate_experiment_cfgs
    paths = []
    exp_name = f'local-exp{exp_id}'
    for cfg in generate_experiment_cfgs(exp_id, seeds or SEEDS):
        run_name = unique_name(cfg['name'])
        path = osp.join(GENERATED_DIR, exp_name, f'{run_name}.py')
        cfg = dict(cfg)
        cfg['_base_'] = [
            osp.relpath(osp.join(REPO_ROOT, 'configs', b), osp.dirname(path))
            for b in cfg['_base_']
        ]
        cfg.update(
            work_dir=osp.join('work_dirs', exp_name, run_name),
            git_rev=git_rev(),
            exp=exp_id)
        paths.append(write_config(cfg, path))
    return paths


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument('--exp', type=int, help='experiment id (experiments.py)')
    group.add_argument('--config', help='config file to train')
    group.add_argument(
        '--resume',
        metavar='WORK_DIR',
        help='continue the run in WORK_DIR (its config dump and latest '
        'checkpoint)')
    parser.add_argument('--machine', choices=['local'], default='local')
    parser.add_argument('--seeds', type=int, nargs='+', default=None,
                        help='seeds of an --exp sweep (default: 0 1 2)')
    parser.add_argument(
        '--startup-test',
        action='store_true',
        help='train each config for 2 iterations only')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='log every 10 iterations, evaluate every 200, debug images '
        'every 10; an error shows its full traceback')
    parser.add_argument(
        '--dry-run', action='store_true', help='only write the configs')
    parser.add_argument(
        '--shard',
        default='0/1',
        help='K/N: run only configs K, K+N, K+2N, ... of the sweep (to share '
        'a sweep between machines or processes)')
    add_cfg_options_argument(parser)
    parser.add_argument(
        'train_args',
        nargs=argparse.REMAINDER,
        help='further tools/train.py arguments after --, e.g. -- --seed 1')
    return parser.parse_args(argv)


def train_overrides(args: argparse.Namespace) -> List[str]:
    options = as_arguments(args.cfg_options or {})
    if args.startup_test:
        options += ['runner.max_iters=2', 'evaluation.interval=2',
                    'checkpoint_config.interval=2', 'log_config.interval=1']
    if args.debug:
        options += ['log_config.interval=10', 'evaluation.interval=200',
                    'log_config.img_interval=10']
    return ['--cfg-options'] + options if options else []


def resume_run(args: argparse.Namespace) -> str:
    """Train on in ``args.resume`` from its latest checkpoint; return the
    config dump it used."""
    from mmseg.engine.run_dir import RunDirError, config_dump
    from tools.train import main as train_main
    try:
        config = config_dump(args.resume)
    except RunDirError as err:
        raise SystemExit(f'--resume: {err}') from None
    print(f'resuming {args.resume} ({osp.basename(config)})', flush=True)
    if not args.dry_run:
        extra = [a for a in args.train_args if a != '--']
        train_main([config, '--work-dir', args.resume, '--resume'] + extra +
                   train_overrides(args))
    return config


def main(argv: Optional[List[str]] = None) -> List[str]:
    # before torch loads OpenMP; the run adapts its threads to contention
    apply_cpu_thread_defaults(passive_when_loaded=False)
    args = parse_args(argv)
    sys.path.insert(0, REPO_ROOT)
    if args.resume:
        return [resume_run(args)]
    if args.config:
        from mmseg.config import load_config
        load_config(args.config, args.cfg_options)  # refuse before writing
        configs = [child_config(args.config, f'{args.machine}-basic', {})]
    else:
        configs = generated_configs(args.exp, args.seeds)
    shard, shards = (int(v) for v in args.shard.split('/'))
    if not 0 <= shard < shards:
        raise ValueError(f'--shard {args.shard}: need 0 <= K < N')
    configs = configs[shard::shards]
    extra = [a for a in args.train_args if a != '--']
    for path in configs:
        print(f'config: {osp.relpath(path, REPO_ROOT)}', flush=True)
        if args.dry_run:
            continue
        from tools.train import main as train_main
        train_main([path] + extra + train_overrides(args))
        gc.collect()
    return configs


if __name__ == '__main__':
    sys.exit(run_cli(main, keep_debug_flag=True))
