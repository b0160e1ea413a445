import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmseg.models.uda.parts.context import PseudoLabels, UDAStepContext
from mmseg.models.uda.parts.mic.masked_consistency import \
    MaskedImageConsistency
from mmseg.models.uda.parts.mic.masking import BlockMaskGenerator
from mmseg.models.uda.parts.strong_aug import StrongAugmentation
from mmseg.registry import MODELS

NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
H = W = 8


class RecordingSegmentor(nn.Module):
    """Stand-in student: 1x1 conv, records forward_train's inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        self.bn = nn.BatchNorm2d(4)
        self.dropout = nn.Dropout(0.1)
        self.calls = []

    def forward_train(self,
                      img,
                      img_metas,
                      gt_semantic_seg,
                      seg_weight=None,
                      return_feat=False):
        self.calls.append(
            dict(img=img,
                 img_metas=img_metas,
                 label=gt_semantic_seg,
                 weight=seg_weight))
        logits = self.dropout(self.bn(self.conv(img)))
        loss = F.cross_entropy(logits,
                               gt_semantic_seg[:, 0],
                               reduction='none',
                               ignore_index=255)
        if seg_weight is not None:
            loss = loss * seg_weight
        loss = loss.mean()
        return {
            'decode.loss_seg': loss,
            'decode.acc_seg': torch.tensor(50.),
            'decode.hr.loss_seg': 0.1 * loss
        }


def _ctx(batch=2):
    metas = [dict(img_norm_cfg=NORM, index=i) for i in range(batch)]
    pseudo = PseudoLabels(label=torch.randint(0, 4, (batch, H, W)),
                          weight=torch.rand(batch, H, W))
    return UDAStepContext(
        iteration=3,
        source=dict(img=torch.randn(batch, 3, H, W) + 5,
                    gt_semantic_seg=torch.randint(0, 4, (batch, 1, H, W)),
                    img_metas=metas),
        target=dict(img=torch.randn(batch, 3, H, W) - 5,
                    img_metas=[dict(img_norm_cfg=NORM)] * batch),
        student=RecordingSegmentor(),
        pseudo=pseudo)


def _mic(mode='separate', **kwargs):
    kwargs.setdefault('mask_generator',
                      dict(type='block', mask_ratio=0.5, mask_block_size=2))
    return MaskedImageConsistency(mask_mode=mode, **kwargs)


def _mask(img, seed, ratio=0.5, block=2):
    return BlockMaskGenerator(ratio, block).generate_mask(
        img,
        torch.Generator().manual_seed(seed))


def test_separate_with_batch_two_is_reference():
    ctx = _ctx(2)
    out = _mic().losses(ctx, torch.Generator().manual_seed(1))
    call = ctx.student.calls[0]
    src, tgt = ctx.source, ctx.target
    unmasked = torch.stack([src['img'][0], tgt['img'][0]])
    assert torch.equal(call['img'], unmasked * _mask(unmasked, 1))
    assert torch.equal(call['label'][0], src['gt_semantic_seg'][0])
    assert torch.equal(call['label'][1, 0], ctx.pseudo.label[0])
    assert torch.all(call['weight'][0] == 1)
    assert torch.equal(call['weight'][1], ctx.pseudo.weight[0])
    assert call['img_metas'] is src['img_metas']
    assert isinstance(out, list) and len(out) == 1
    assert set(out[0]) == {
        'decode.loss_seg', 'decode.acc_seg',
        'decode.hr.loss_seg'
    }


def test_separate_generalises_to_larger_batches():
    ctx = _ctx(5)
    _mic().losses(ctx)
    call = ctx.student.calls[0]
    assert call['img'].shape[0] == 5
    assert call['label'].shape == (5, 1, H, W)
    assert torch.equal(call['label'][:2], ctx.source['gt_semantic_seg'][:2])
    assert torch.equal(call['label'][2:, 0], ctx.pseudo.label[:3])
    assert torch.all(call['weight'][:2] == 1)
    assert torch.equal(call['weight'][2:], ctx.pseudo.weight[:3])
    kept = call['img'] != 0  # sources are ~+5, targets ~-5
    assert torch.all(call['img'][:2][kept[:2]] > 0)
    assert torch.all(call['img'][2:][kept[2:]] < 0)


def test_separate_needs_two_samples():
    with pytest.raises(ValueError, match='>= 2'):
        _mic().losses(_ctx(1))


def test_source_mode():
    ctx = _ctx(2)
    _mic('separatesrc').losses(ctx, torch.Generator().manual_seed(2))
    call = ctx.student.calls[0]
    src = ctx.source['img']
    assert torch.equal(call['img'], src * _mask(src, 2))
    assert torch.equal(call['label'], ctx.source['gt_semantic_seg'])
    assert call['weight'] is None


def test_target_mode_uses_unmixed_pseudo_labels():
    ctx = _ctx(2)
    ctx.mixed = object()  # must not be read
    _mic('separatetrg').losses(ctx, torch.Generator().manual_seed(3))
    call = ctx.student.calls[0]
    tgt = ctx.target['img']
    assert torch.equal(call['img'], tgt * _mask(tgt, 3))
    assert torch.equal(call['label'][:, 0], ctx.pseudo.label)
    assert torch.equal(call['weight'], ctx.pseudo.weight)


def test_target_modes_need_pseudo_labels():
    ctx = _ctx(2)
    ctx.pseudo = None
    with pytest.raises(ValueError, match='ctx.pseudo'):
        _mic('separatetrg').losses(ctx)
    _mic('separatesrc').losses(ctx)  # source only: fine


@pytest.mark.parametrize('mode',
                         ['separateaug', 'separatetrgaug', 'separatesrcaug'])
def test_aug_modes_jitter_and_blur_before_masking(mode):
    ctx = _ctx(2)
    ctx.source['img'] = torch.randn(2, 3, 40, 40)
    ctx.source['gt_semantic_seg'] = torch.zeros(2, 1, 40, 40).long()
    ctx.target['img'] = torch.randn(2, 3, 40, 40)
    ctx.pseudo = PseudoLabels(label=torch.zeros(2, 40, 40).long(),
                              weight=torch.ones(2, 40, 40))
    mic = _mic(mode)
    inputs = mic.select_inputs(ctx)[0].clone()
    torch.manual_seed(21)
    mic.losses(ctx, torch.Generator().manual_seed(4))
    got = ctx.student.calls[0]['img']

    gen = torch.Generator().manual_seed(4)
    aug = StrongAugmentation(blur=True)
    params = aug.draw_params(gen)
    assert params['color_jitter'] > 0.2 and params['blur'] > 0.5
    torch.manual_seed(21)
    expected = aug(inputs, NORM, params)
    expected = BlockMaskGenerator(0.5, 2).mask_image(expected, gen)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.equal(mic.select_inputs(ctx)[0], inputs)  # no in-place


def test_aug_modes_blur_draw_is_random_and_applied():
    mic = _mic('separateaug', color_jitter_probability=1.0)
    assert mic.strong_aug.blur
    blurred = 0
    for seed in range(8):
        ctx = _ctx(2)
        ctx.source['img'] = torch.randn(2, 3, 40, 40)
        ctx.source['gt_semantic_seg'] = torch.zeros(2, 1, 40, 40).long()
        ctx.target['img'] = torch.randn(2, 3, 40, 40)
        ctx.pseudo = PseudoLabels(label=torch.zeros(2, 40, 40).long(),
                                  weight=torch.ones(2, 40, 40))
        mic.mask_generator = BlockMaskGenerator(0.0, 2)  # keep everything
        mic.losses(ctx, torch.Generator().manual_seed(seed))
        got = ctx.student.calls[0]['img']
        blurred += not torch.allclose(got, mic.select_inputs(ctx)[0])
    assert 0 < blurred < 8


def test_mask_ratio_and_blocks_in_masked_batch():
    ctx = _ctx(2)
    ctx.source['img'] = torch.ones(2, 3, 64, 64)
    ctx.source['gt_semantic_seg'] = torch.zeros(2, 1, 64, 64).long()
    mic = _mic('separatesrc',
               mask_generator=dict(type='block',
                                   mask_ratio=0.7,
                                   mask_block_size=2))
    mic.losses(ctx, torch.Generator().manual_seed(0))
    img = ctx.student.calls[0]['img']
    masked = (img == 0).float()
    assert abs(masked.mean().item() - 0.7) < 0.03
    blocks = masked.view(2, 3, 32, 2, 32, 2)
    assert torch.all(blocks.amin((3, 5)) == blocks.amax((3, 5)))
    assert torch.all(masked[:, :1] == masked)  # same mask for all channels


def test_lambda_scales_only_decode_loss_by_default():
    ctx = _ctx(2)
    ctx.student.eval()
    base = _mic().losses(ctx, torch.Generator().manual_seed(0))[0]
    half = _mic(mask_lambda=0.5).losses(ctx,
                                        torch.Generator().manual_seed(0))[0]
    assert torch.allclose(half['decode.loss_seg'],
                          0.5 * base['decode.loss_seg'])
    assert torch.allclose(half['decode.hr.loss_seg'],
                          base['decode.hr.loss_seg'])
    fixed = _mic(mask_lambda=0.5, scale_all_losses=True).losses(
        ctx,
        torch.Generator().manual_seed(0))[0]
    assert torch.allclose(fixed['decode.hr.loss_seg'],
                          0.5 * base['decode.hr.loss_seg'])
    assert fixed['decode.acc_seg'] == base['decode.acc_seg']


def test_gradient_reaches_student():
    ctx = _ctx(2)
    losses = _mic().losses(ctx)[0]
    losses['decode.loss_seg'].backward()
    assert ctx.student.conv.weight.grad is not None


def test_config_checks_and_registry():
    mic = MODELS.build(
        dict(type='MIC',
             mask_mode='separatetrgaug',
             mask_lambda=1,
             mask_generator=dict(type='block',
                                 mask_ratio=0.7,
                                 mask_block_size=64)))
    assert isinstance(mic, MaskedImageConsistency)
    assert mic.mask_generator.mask_block_size == 64
    assert _mic(mask_generator=None).mask_generator.mask_ratio == 0.7
    with pytest.raises(NotImplementedError, match='separate MIC teacher'):
        _mic(mask_alpha=0.999)
    with pytest.raises(NotImplementedError, match='separate MIC teacher'):
        _mic(mask_pseudo_threshold=0.9)
    with pytest.raises(ValueError, match='mask_mode'):
        _mic('joint')
