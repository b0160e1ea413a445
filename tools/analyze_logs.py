"""Plot training curves (losses, lr, mIoU, ...) of one or more runs.

    python tools/analyze_logs.py WORK_DIR [WORK_DIR ...] --out curves.png
        [--keys decode.loss_seg mix.decode.loss_seg mIoU] [--legend a b]

Reads ``WORK_DIR/<timestamp>/vis_data/scalars.json`` (every timestamp, in
order, so a resumed run continues its curve; a ``scalars.json`` or
``<timestamp>.json`` file may also be given directly). Without ``--keys``
every loss term and ``mIoU`` are drawn, one panel per key, one line per run.
"""
import argparse
import glob
import json
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.evaluation.plots import plot_curves  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402

# keys of a log record that are not curves
NOT_CURVES = frozenset({'step', 'iter', 'epoch'})
# keys of evaluation records that are timings of the evaluation itself
EVAL_TIMINGS = frozenset({'time', 'data_time'})

Series = Dict[str, Dict[int, float]]  # key -> {iteration: value}


def scalar_files(path: str) -> List[str]:
    """The scalar logs of a work dir (oldest first), or ``[path]`` for a
    file. Raises ``SystemExit`` naming ``path`` when there is none."""
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise SystemExit(f'analyze_logs: {path} is neither a work dir nor a '
                         'log file')
    files = sorted(glob.glob(osp.join(path, '*', 'vis_data',
                                      'scalars.json')))
    if not files:
        raise SystemExit(f'analyze_logs: no <timestamp>/vis_data/scalars.json'
                         f' in {path} (not a training work dir?)')
    return files


def is_evaluation(record: Dict) -> bool:
    return 'mIoU' in record or 'aAcc' in record


def read_series(files: Sequence[str]) -> Series:
    """``{key: {iteration: value}}`` of the records of ``files``; a later
    file overrides an earlier one at the same iteration (resume)."""
    series: Series = {}
    for path in files:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as err:
                    raise SystemExit(f'analyze_logs: {path}:{number} is not '
                                     f'a JSON record ({err})') from err
                step = int(record.get('step', record.get('iter', 0)))
                skip = NOT_CURVES | (EVAL_TIMINGS
                                     if is_evaluation(record) else set())
                for key, value in record.items():
                    if key not in skip and isinstance(value, (int, float)):
                        series.setdefault(key, {})[step] = float(value)
    return series


def default_keys(runs: Sequence[Series]) -> List[str]:
    """Every loss term (in log order), then ``mIoU``, over all runs."""
    keys: List[str] = []
    for series in runs:
        keys += [k for k in series if 'loss' in k and k not in keys]
    if any('mIoU' in series for series in runs):
        keys.append('mIoU')
    return keys


def as_curves(series: Series, keys: Sequence[str]
              ) -> Dict[str, Tuple[List[int], List[float]]]:
    curves = {}
    for key in keys:
        if key in series:
            steps = sorted(series[key])
            curves[key] = (steps, [series[key][s] for s in steps])
    return curves


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR',
                        help='training work dirs (or scalars.json files)')
    parser.add_argument('--keys', nargs='+',
                        help='curves to draw (default: every loss and mIoU)')
    parser.add_argument('--legend', nargs='+',
                        help='one label per WORK_DIR (default: its name)')
    parser.add_argument('--title', help='figure title')
    parser.add_argument('--out', required=True, help='PNG file to write')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if args.legend and len(args.legend) != len(args.work_dirs):
        parser.error(f'--legend has {len(args.legend)} labels for '
                     f'{len(args.work_dirs)} work dirs')
    return args


def main(argv: Optional[List[str]] = None) -> str:
    args = parse_args(argv)
    runs = [read_series(scalar_files(path)) for path in args.work_dirs]
    keys = args.keys or default_keys(runs)
    available = sorted(set().union(*runs))
    missing = [k for k in keys if not any(k in series for series in runs)]
    if missing or not keys:
        raise SystemExit(
            f'analyze_logs: key "{missing[0] if missing else "loss"}" is in '
            f'none of the logs (available: {", ".join(available)})')
    labels = args.legend or [
        osp.basename(osp.normpath(p)) for p in args.work_dirs]
    if len(set(labels)) < len(labels):
        labels = [osp.normpath(p) for p in args.work_dirs]
    curves = {label: as_curves(series, keys)
              for label, series in zip(labels, runs)}
    out = plot_curves(curves, keys, args.out, args.title)
    print(f'wrote {out} ({", ".join(keys)})')
    return out


if __name__ == '__main__':
    sys.exit(run_cli(main))
