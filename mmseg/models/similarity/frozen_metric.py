"""Base of the frozen perceptual metrics (LPIPS, DISTS); their weight files."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import nn

from mmseg.utils.checkpoint_io import (CONVERT_HINT, extract_state_dict,
                                       load_checkpoint_file)

# mmseg's default ``img_norm_cfg`` (RGB, 0..255 scale).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


def load_weight_file(filename: Optional[str], what: str,
                     owner: str) -> Dict[str, torch.Tensor]:
    """Read a user weight file (weights-only), or say which one is missing."""
    if filename is None:
        raise FileNotFoundError(
            f'{owner}: {what} is required with pretrained=True; point it to '
            'the weight file (or pass pretrained=False for random weights)')
    return extract_state_dict(
        load_checkpoint_file(filename, trust_hint=CONVERT_HINT), filename)


def load_torchvision_features(module: nn.Module,
                              state_dict: Dict[str, torch.Tensor],
                              filename: str, arch: str) -> None:
    """Load the ``features.*`` keys of a torchvision ``arch`` state dict.

    The other keys (the classifier) are dropped with a log line; missing or
    unexpected feature keys and shape mismatches raise, naming ``filename``.
    """
    dropped = sorted(k for k in state_dict if not k.startswith('features.'))
    if dropped:
        print_log(f'{filename}: {arch} features only, dropped {len(dropped)} '
                  f'keys ({", ".join(dropped[:4])}...)', logger='current')
    kept = {k: v for k, v in state_dict.items() if k.startswith('features.')}
    missing, unexpected = module.load_state_dict(kept, strict=False)
    if missing or unexpected:
        raise KeyError(f'{filename}: not a torchvision {arch} state dict; '
                       f'missing {missing}, unexpected {unexpected}')


class FrozenMetric(nn.Module):
    """A distance network that is never trained: eval mode, no gradients.

    Inputs are mmseg-normalised images unless ``input_range`` says otherwise;
    ``denormalize`` maps them back to 0..255 with the run's ``img_norm_cfg``
    (given per call) or the constructor's ``mean``/``std``.
    """

    def __init__(self, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD) -> None:
        super().__init__()
        self.register_buffer('norm_mean', torch.tensor(mean).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('norm_std', torch.tensor(std).view(1, 3, 1, 1),
                             persistent=False)

    def freeze(self, pretrained: bool) -> None:
        if not pretrained:
            print_log(f'{type(self).__name__}: pretrained=False, distances '
                      'come from RANDOM weights (tests only)',
                      logger='current', level=30)
        for param in self.parameters():
            param.requires_grad_(False)
        super().train(False)

    def train(self, mode: bool = True) -> 'FrozenMetric':
        """Stay in eval mode whatever the parent asks."""
        return super().train(False)

    def denormalize(self, x: torch.Tensor,
                    img_norm_cfg: Optional[dict] = None) -> torch.Tensor:
        """Normalised image -> RGB in 0..255."""
        mean, std = self.norm_mean, self.norm_std
        if img_norm_cfg is not None:
            mean = torch.as_tensor(img_norm_cfg['mean'], dtype=x.dtype,
                                   device=x.device).view(1, 3, 1, 1)
            std = torch.as_tensor(img_norm_cfg['std'], dtype=x.dtype,
                                  device=x.device).view(1, 3, 1, 1)
        return x * std.to(x) + mean.to(x)
