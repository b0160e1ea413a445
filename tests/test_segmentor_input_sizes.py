"""Small, odd and prime image sizes at inference (padded, logits cropped
back); HRDA ``hr_crop_size`` and ``test_cfg`` checked when the model is
built."""
import itertools

import pytest
import torch
import torch.nn.functional as F

from mmseg.errors import ConfigError
from mmseg.models.segmentors.input_padding import (grid_multiple,
                                                   pad_bottom_right,
                                                   padded_side)
from mmseg.registry import MODELS
from test_models_segmentors import (build, metas, tiny_daformer_cfg,
                                    tiny_hrda_cfg)

# Small, odd and prime sides around the limits: MiT needs 29 px, HRDA (MiT
# at scale 0.5) 64 px on a multiple of 8; the slide crop is 64.
HEIGHTS, WIDTHS = (1, 29, 126), (2, 25, 97)
SHAPES = [(1, 1), (50, 25), (126, 63), (7, 13), (3, 97), (63, 1), (31, 29),
          (97, 131), (64, 64), (128, 96)]


@pytest.fixture(scope='module')
def models():
    torch.manual_seed(0)
    return {'EncoderDecoder': build(tiny_daformer_cfg(), eval_mode=True),
            'HRDA': build(tiny_hrda_cfg(), eval_mode=True)}


def use_mode(model, mode):
    model.test_cfg = dict(mode=mode, crop_size=(64, 64), stride=(32, 32),
                          batched_slide=True)


def test_padded_side_and_grid_multiple():
    assert [padded_side(s, 8, 64) for s in (1, 63, 64, 65, 126, 128)] == [
        64, 64, 64, 72, 128, 128]
    assert [padded_side(s, 1, 29) for s in (1, 28, 29, 97)] == [29, 29, 29, 97]
    assert grid_multiple(4, (0.5, 1)) == 8
    assert grid_multiple(8, (0.5, 1)) == 16
    assert grid_multiple(4, (0.25, 0.5)) == 16
    assert grid_multiple(4, (1, 0.5)) == 8
    img = torch.randn(1, 3, 64, 64)
    same, padded = pad_bottom_right(img, 8, 64)
    assert same is img and not padded


def test_mit_smallest_input_is_29_px(models):
    assert models['EncoderDecoder'].backbone.min_input_size == 29
    assert models['EncoderDecoder'].input_size_rule() == (1, 29)
    assert models['HRDA'].input_size_rule() == (8, 64)
    assert models['HRDA'].hr_crop_rule() == (8, 32)


@pytest.mark.parametrize('name', ['EncoderDecoder', 'HRDA'])
@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_every_size_gets_a_prediction_of_its_own_size(models, name, mode):
    model = models[name]
    use_mode(model, mode)
    torch.manual_seed(1)
    for h, w in SHAPES + list(itertools.product(HEIGHTS, WIDTHS)):
        scores = model.inference(torch.randn(1, 3, h, w), metas(1, h, w),
                                 rescale=True)
        assert scores.shape == (1, 5, h, w), (name, mode, h, w)
        assert torch.allclose(scores.sum(1), torch.ones(1, h, w), atol=1e-5)


@pytest.mark.parametrize('name', ['EncoderDecoder', 'HRDA'])
def test_predict_on_a_prime_sized_image(models, name):
    model = models[name]
    use_mode(model, 'slide')
    img = torch.randn(1, 3, 53, 7)
    result = model(img, metas(1, 53, 7), mode='predict')[0]
    scores = model.inference(img, metas(1, 53, 7), rescale=True)
    assert result['pred_sem_seg'].shape == (53, 7)
    assert torch.equal(result['pred_sem_seg'], scores.argmax(1)[0])


@pytest.mark.parametrize('name,shape,padded_to', [
    ('EncoderDecoder', (50, 25), (50, 29)),
    ('EncoderDecoder', (1, 1), (29, 29)),
    ('HRDA', (126, 63), (128, 64)),
    ('HRDA', (50, 25), (64, 64)),
    ('HRDA', (97, 131), (104, 136)),
])
def test_logits_are_those_of_the_zero_padded_image_cropped(models, name,
                                                           shape, padded_to):
    model = models[name]
    use_mode(model, 'whole')
    (h, w), (ph, pw) = shape, padded_to
    img = torch.randn(1, 3, h, w)
    padded = F.pad(img, (0, pw - w, 0, ph - h))
    logits = model.encode_decode(img, metas(1, h, w))
    expected = model.encode_decode(padded, metas(1, ph, pw))[:, :, :h, :w]
    assert logits.shape == (1, 5, h, w)
    assert torch.equal(logits, expected)


@pytest.mark.parametrize('name,shape', [('EncoderDecoder', (64, 64)),
                                        ('EncoderDecoder', (29, 97)),
                                        ('EncoderDecoder', (126, 63)),
                                        ('HRDA', (64, 64)),
                                        ('HRDA', (128, 96))])
def test_sizes_that_fit_are_not_padded_and_bit_identical(models, name, shape):
    """The unpadded computation, spelt out, equals encode_decode exactly."""
    model = models[name]
    use_mode(model, 'whole')
    img = torch.randn(1, 3, *shape)
    if name == 'HRDA':
        lr = model.extract_unscaled_feat(model.resize(img, 0.5))
        hr = model.extract_slide_feat(img)
        out = model.decode_head.forward_test([lr, hr], metas(1), {})
    else:
        out = model.decode_head.forward_test(model.extract_feat(img),
                                             metas(1), {})
    expected = F.interpolate(out, size=shape, mode='bilinear',
                             align_corners=False)
    assert torch.equal(model.encode_decode(img, metas(1, *shape)), expected)


@pytest.mark.parametrize('name', ['EncoderDecoder', 'HRDA'])
def test_slide_on_an_image_smaller_than_the_crop_is_one_window(models, name):
    model = models[name]
    img, m = torch.randn(2, 3, 50, 25), metas(2, 50, 25)
    use_mode(model, 'whole')
    whole = model.inference(img, m, rescale=True)
    use_mode(model, 'slide')
    assert torch.equal(model.inference(img, m, rescale=True), whole)


def test_hrda_pads_then_rescales_to_ori_shape(models):
    model = models['HRDA']
    use_mode(model, 'slide')
    results = model(torch.randn(1, 3, 126, 63),
                    metas(1, 126, 63, ori=(252, 126)), mode='predict')
    assert results[0]['pred_sem_seg'].shape == (252, 126)


@pytest.mark.parametrize('crop', [[30, 30], [40, 24], [36, 36], [16, 16],
                                  [33, 64], [32]])
def test_hrda_rejects_hr_crop_size_off_the_grid_when_built(crop):
    cfg = tiny_hrda_cfg()
    cfg.hr_crop_size = crop
    with pytest.raises(ConfigError) as err:
        MODELS.build(cfg)
    msg = str(err.value)
    assert f'hr_crop_size={crop}' in msg
    assert 'multiple of 8' in msg and 'at least 32' in msg
    assert '\n' not in msg


def test_hrda_hr_crop_size_message_suggests_a_valid_size():
    cfg = tiny_hrda_cfg()
    cfg.hr_crop_size = [40, 24]
    with pytest.raises(ConfigError, match=r'e\.g\. hr_crop_size=\[40, 32\]'):
        MODELS.build(cfg)


@pytest.mark.parametrize('crop', [[32, 32], [40, 40], [32, 64], [64, 64]])
def test_hrda_accepts_hr_crop_size_on_the_grid_and_trains(crop):
    cfg = tiny_hrda_cfg()
    cfg.hr_crop_size = crop
    model = build(cfg)
    img = torch.randn(1, 3, 64, 64)
    losses = model.forward_train(img, metas(1), torch.randint(
        0, 5, (1, 1, 64, 64)))
    assert torch.isfinite(losses['decode.hr.loss_seg'])


@pytest.mark.parametrize('test_cfg,key', [
    (dict(mode='slid'), 'test_cfg.mode'),
    (dict(mode='slide'), 'test_cfg.crop_size'),
    (dict(mode='slide', crop_size=[64, 64]), 'test_cfg.stride'),
    (dict(mode='slide', crop_size=[64, 0], stride=[32, 32]),
     'test_cfg.crop_size'),
    (dict(mode='slide', crop_size=[64, 64], stride=32), 'test_cfg.stride'),
])
def test_unusable_test_cfg_is_refused_when_built(test_cfg, key):
    cfg = tiny_daformer_cfg()
    cfg.test_cfg = test_cfg
    with pytest.raises(ConfigError, match=key):
        MODELS.build(cfg)
