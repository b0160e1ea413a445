"""EBDA entropy balancing: value and gradient direction."""
import math

import torch
from torch import nn

from mmseg.models.uda.parts.context import MixedBatch, UDAStepContext
from mmseg.models.uda.parts.ebda.entropy_balance import (entropy_balance_loss,
                                                         pixel_entropy)
from mmseg.registry import MODELS


def test_value_by_hand():
    # pixel 1: uniform over 2 classes -> H = ln 2; pixel 2: one-hot-ish
    logits = torch.tensor([[0., 0.], [30., -30.]]).t().reshape(1, 2, 1, 2)
    h = pixel_entropy(logits)[0, 0]
    assert torch.allclose(h[0], torch.tensor(math.log(2)))
    assert h[1] < 1e-20
    expected = ((math.log(2) - 0.4) ** 2 + 0.4 ** 2) / 2
    got = entropy_balance_loss(logits, 0.4)
    assert abs(got.item() - expected) < 1e-6


def _entropy_after_step(logits):
    logits = logits.clone().requires_grad_(True)
    entropy_balance_loss(logits, 0.4).backward()
    with torch.no_grad():
        return (pixel_entropy(logits).item(),
                pixel_entropy(logits - 1.0 * logits.grad).item())


def test_gradient_pushes_entropy_toward_target_from_both_sides():
    peaked = torch.zeros(1, 19, 1, 1)
    peaked[0, 0] = 12.0
    before, after = _entropy_after_step(peaked)
    assert before < 0.4 and after > before
    flat = torch.zeros(1, 19, 1, 1)
    flat[0, 0] = 0.3  # near-uniform (exactly uniform has zero gradient)
    before, after = _entropy_after_step(flat)
    assert before > 0.4 and after < before


class TinySegmentor(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 19, 1)
        self.calls = []

    def encode_decode(self, img, img_metas):
        self.calls.append(img)
        return self.conv(img)


def test_module_uses_second_pass_on_mixed_image():
    student = TinySegmentor()
    mixed_img = torch.randn(2, 3, 4, 4)
    mixed = MixedBatch(img=mixed_img, label=torch.zeros(2, 1, 4, 4).long(),
                       weight=torch.ones(2, 4, 4),
                       mask=torch.zeros(2, 1, 4, 4))
    ctx = UDAStepContext(iteration=0, source={}, target={'img_metas': [{}]},
                         student=student, mixed=mixed)
    module = MODELS.build(dict(type='EntropyBalance'))
    (out, ) = module.losses(ctx)
    assert student.calls[0] is mixed_img
    expected = 0.1 * entropy_balance_loss(student.conv(mixed_img), 0.4)
    assert torch.allclose(out['loss_eb'], expected)
    out['loss_eb'].backward()
    assert student.conv.weight.grad is not None
