"""Parameters and FLOPs of a config's deployed network at one input size.

    python tools/get_flops.py CONFIG [--shape H W] [--test-model NAME]
        [--cfg-options k=v ...]

Runs the network's inference (``test_cfg``: whole image or sliding
windows; HRDA: context and detail scales, the detail one by its windows;
EGLP ``--test-model fusion``: both teachers) once on a ``1x3xHxW`` input
under ``torch.utils.flop_counter.FlopCounterMode`` and prints a table:
parameters of the modules that ran, torch's FLOPs (a multiply-add = 2) and
GMACs (= FLOPs / 2, the unit papers such as SegFormer report as "FLOPs").
Nothing is loaded and nothing computed: the network runs on PyTorch's
``meta`` device (shapes only; on the CPU where an operation needs data), as
the count depends on the shapes alone.
``tools/get_param_count.py`` gives the trainable parameters of the training
network instead.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402
from mmengine import DictAction  # noqa: E402

from tools.get_param_count import human  # noqa: E402


def describe_run(model, complexity) -> str:
    """One line: which network, inference mode and backbone inputs."""
    network = getattr(model, 'deployed_network', 'student')
    test_cfg = dict(getattr(model, 'test_cfg', None) or
                    model.cfg.model.get('test_cfg') or {})
    mode = test_cfg.get('mode', 'whole')
    if mode == 'slide':
        mode += (f' (crop {tuple(test_cfg["crop_size"])}, stride '
                 f'{tuple(test_cfg["stride"])})')
    scales = getattr(model, 'scales', None)
    if scales and len(scales) > 1:
        mode += f'; HRDA scales {list(scales)}'
    runs: List[list] = []  # consecutive equal shapes -> [shape, count]
    for shape in complexity.backbone_inputs:
        if runs and runs[-1][0] == shape:
            runs[-1][1] += 1
        else:
            runs.append([shape, 1])
    calls = ', '.join(('x'.join(map(str, s)) if n == 1 else
                       f'{n} x ({"x".join(map(str, s))})') for s, n in runs)
    return (f'{type(model).__name__} ({network}), test_cfg {mode}; '
            f'backbone inputs: {calls}')


def table(complexity) -> List[str]:
    rows = [('part', 'params', 'GFLOPs (torch)', 'GMACs (=FLOPs/2)')]
    for part in ('backbone', 'heads', 'total'):
        flops = complexity.flops[part]
        rows.append((part, human(complexity.params[part]),
                     f'{flops / 1e9:.2f}', f'{flops / 2e9:.2f}'))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    return ['  '.join(c.rjust(w) if i else c.ljust(w)
                      for i, (c, w) in enumerate(zip(r, widths)))
            for r in rows]


def main(argv: Optional[List[str]] = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--shape', type=int, nargs=2, default=[512, 512],
                        metavar=('H', 'W'), help='input size (default 512 '
                        '512)')
    parser.add_argument('--test-model', default=None,
                        help='student|teacher|nfnet|nfnet_teacher|fusion')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    if min(args.shape) < 1:
        parser.error(f'--shape {args.shape[0]} {args.shape[1]}: sides must '
                     'be >= 1')
    from mmseg.apis.complexity import config_complexity
    model, result = config_complexity(args.config, args.shape,
                                      args.cfg_options, args.test_model)
    h, w = result.shape
    print(f'{args.config} at {h}x{w}: {describe_run(model, result)}')
    for line in table(result):
        print(line)
    unused = result.params_in_network - result.params['total']
    if unused:
        print(f'(+{human(unused)} parameters in the network that inference '
              'does not use)')
    return result


if __name__ == '__main__':
    sys.exit(run_cli(main))
