"""Print the trainable parameters of a config's model: encoder, decoder, total.

Usage: python tools/get_param_count.py CONFIG [--cfg-options k=v ...]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch.nn as nn  # noqa: E402
from mmengine import Config, DictAction  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402


def count_trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def human(n: int) -> str:
    """``81440000`` -> ``'81.44M'``."""
    for unit, size in (('G', 1e9), ('M', 1e6), ('K', 1e3)):
        if n >= size:
            return f'{n / size:.2f}{unit}'
    return str(n)


def build_model(cfg: Config) -> nn.Module:
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    return MODELS.build(cfg.model)


def param_report(model: nn.Module) -> dict:
    """Trainable counts of ``backbone``, ``decode_head`` and the model."""
    return {
        'encoder': count_trainable(model.backbone),
        'decoder': count_trainable(model.decode_head),
        'total': count_trainable(model),
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    from mmseg.config import load_config
    cfg = load_config(args.config, args.cfg_options)
    for name, n in param_report(build_model(cfg)).items():
        print(f'{name:8s} {human(n):>10s}  ({n})')


if __name__ == '__main__':
    sys.exit(run_cli(main))
