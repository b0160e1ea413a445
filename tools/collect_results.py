"""Summarise the final evaluation of every run of a sweep.

    python tools/collect_results.py work_dirs/local-exp1 [--classes rider bus]
        [--plot sweep.png]

Reads the last ``mIoU`` evaluation of each run's log (the validation during
training: val-split numbers, not the test-server numbers papers report for
Dark Zurich and ACDC), groups runs whose names
differ only in the ``_s<seed>`` suffix, and prints mean, std and the seeds'
values, plus the mean IoU of the requested classes. ``--plot`` draws each
method's mean mIoU with its seed spread.
"""
import argparse
import glob
import os.path as osp
import re
import statistics
import sys
from collections import defaultdict
from typing import Dict, List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

METRIC = re.compile(r'(\b(?:mIoU|aAcc|mAcc|IoU\.[\w ]+?)): (nan|[\d.]+)')
RUN_NAME = re.compile(r'^\d{6}_\d{4,6}_(?P<name>.+)_(?P<id>[0-9a-f]{5})$')
SEED = re.compile(r'_s(\d+)$')


def last_metrics(log_file: str) -> Optional[Dict[str, float]]:
    """Metrics of the last evaluation line of an mmengine log."""
    found = None
    with open(log_file) as f:
        for line in f:
            if 'mIoU:' in line:
                found = {k: float(v) for k, v in METRIC.findall(line)}
    return found


def run_metrics(sweep_dir: str) -> Dict[str, Dict[str, float]]:
    """``{run name: metrics}`` of every finished run in ``sweep_dir``."""
    runs = {}
    for run_dir in sorted(glob.glob(osp.join(sweep_dir, '*'))):
        match = RUN_NAME.match(osp.basename(run_dir))
        logs = sorted(glob.glob(osp.join(run_dir, '*', '*.log')))
        if not match or not logs:
            continue
        metrics = last_metrics(logs[-1])
        if metrics:
            runs[match.group('name')] = metrics
    return runs


def group_by_method(runs: Dict[str, Dict[str, float]]
                    ) -> Dict[str, Dict[str, Dict[str, float]]]:
    """``{method: {seed: metrics}}``: run names without ``_s<seed>``."""
    groups: Dict[str, Dict[str, Dict[str, float]]] = defaultdict(dict)
    for name, metrics in runs.items():
        seed = SEED.search(name)
        groups[SEED.sub('', name)][seed.group(1) if seed else '-'] = metrics
    return dict(groups)


def summarise(runs: Dict[str, Dict[str, float]],
              classes: List[str]) -> List[str]:
    groups = group_by_method(runs)
    header = ['method', 'n', 'val mIoU mean', 'std', 'per seed'] + [
        f'val IoU {c}' for c in classes
    ]
    lines = [' | '.join(header)]
    for method, seeds in sorted(groups.items()):
        values = [m['mIoU'] for m in seeds.values()]
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        per_class = []
        for cls in classes:
            vals = [m.get(f'IoU.{cls}', float('nan')) for m in seeds.values()]
            per_class.append(f'{statistics.fmean(vals):.2f}')
        lines.append(' | '.join([
            method, str(len(values)), f'{statistics.fmean(values):.2f}',
            f'{std:.2f}', ' '.join(f'{v:.2f}' for v in values)
        ] + per_class))
    return lines


def main(argv=None) -> List[str]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('sweep_dirs', nargs='+')
    parser.add_argument('--classes', nargs='*', default=[])
    parser.add_argument('--plot', help='PNG: mIoU per method, seed spread')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    runs = {}
    for sweep in args.sweep_dirs:
        if not osp.isdir(sweep):
            raise FileNotFoundError(f'sweep folder not found: {sweep}')
        runs.update(run_metrics(sweep))
    if not runs:
        raise FileNotFoundError(
            f'no finished run (a log with an mIoU line) in '
            f'{", ".join(args.sweep_dirs)}')
    lines = summarise(runs, args.classes)
    print('\n'.join(lines))
    if args.plot:
        from mmseg.evaluation.plots import plot_sweep
        groups = group_by_method(runs)
        plot_sweep({method: {seed: m['mIoU'] for seed, m in seeds.items()}
                    for method, seeds in sorted(groups.items())}, args.plot,
                   metric='val mIoU')
        print(f'wrote {args.plot}')
    return lines


if __name__ == '__main__':
    sys.exit(run_cli(main))
