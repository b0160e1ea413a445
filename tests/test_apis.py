"""The inference API (mmseg/apis): same predictions as tools/test.py, any
input size, converted or refused inputs, the deployed network."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from api_fixtures import toy_config, training_checkpoint, val_images
from mmseg.apis import (ImageInputError, SegResult, inference_model,
                        inference_segmentor, init_model, init_segmentor)
from tools.test import main as run_test


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory):
    return str(tmp_path_factory.mktemp('toy') / 'toy')


@pytest.fixture(scope='module')
def hrda(tmp_path_factory, toy_root):
    tmp = str(tmp_path_factory.mktemp('hrda'))
    cfg = toy_config(tmp, 'toy_hrda_daformer_mitb0.py', toy_root)
    return cfg, training_checkpoint(cfg, osp.join(tmp, 'iter_4.pth'))


def _assert_api_equals_test_py(cfg, ckpt, tmp_path, toy_root,
                               test_flags=(), **init_kwargs):
    images = val_images(toy_root)
    assert len(images) == 2
    run_test([cfg, ckpt, '--format-only', '--eval-option',
              f'imgfile_prefix={tmp_path / "pngs"}', 'to_label_id=False',
              *test_flags])
    model = init_model(cfg, ckpt, **init_kwargs)
    results = inference_model(model, images)
    for path, result in zip(images, results):
        expected = np.array(Image.open(
            tmp_path / 'pngs' / (osp.splitext(osp.basename(path))[0] +
                                 '.png')))
        pred = result.pred_sem_seg.numpy()
        assert pred.shape == cv2.imread(path).shape[:2]
        assert np.array_equal(pred, expected), path
    return model, results


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_encoder_decoder_equals_test_py(tmp_path, toy_root, mode):
    cfg = toy_config(str(tmp_path), 'toy_srconly_daformer_mitb0.py',
                     toy_root)
    ckpt = training_checkpoint(cfg, str(tmp_path / 'iter_4.pth'))
    options = {'model.test_cfg.mode': mode}
    if mode == 'slide':  # 4 overlapping windows on the 128x64 input
        options.update({'model.test_cfg.crop_size': (64, 64),
                        'model.test_cfg.stride': (32, 32)})
    flags = ['--cfg-options'] + [
        f'{k}={v[0]},{v[1]}' if isinstance(v, tuple) else f'{k}={v}'
        for k, v in options.items()]
    model, _ = _assert_api_equals_test_py(cfg, ckpt, tmp_path, toy_root,
                                          flags, cfg_options=options)
    assert model.test_cfg['mode'] == mode
    assert type(model).__name__ == 'EncoderDecoder'
    # the segmentor as trained: backbone -> 4 maps -> head -> logits
    maps = model.backbone(torch.zeros(1, 3, 64, 96))
    assert len(maps) == 4
    assert model.decode_head(maps).shape == (1, 19, 16, 24)


def test_hrda_equals_test_py_and_attaches_cfg_and_classes(
        tmp_path, toy_root, hrda):
    cfg, ckpt = hrda
    model, results = _assert_api_equals_test_py(cfg, ckpt, tmp_path,
                                                toy_root)
    assert type(model).__name__ == 'HRDAEncoderDecoder'
    # the segmentor as trained: backbone -> 4 maps -> head -> logits
    feats = model.backbone(torch.zeros(1, 3, 64, 64))
    assert len(feats) == 4
    assert model.cfg.filename == cfg
    from mmseg.datasets.dark_zurich import DarkZurichDataset
    assert model.dataset_meta['classes'] == tuple(DarkZurichDataset.CLASSES)
    assert model.CLASSES == model.dataset_meta['classes']
    result = results[0]
    assert isinstance(result, SegResult)
    assert result.seg_logits.shape == (19, *result.pred_sem_seg.shape)
    assert result.pred_sem_seg.dtype == torch.int64
    assert torch.equal(result.seg_logits.argmax(0), result.pred_sem_seg)
    assert init_segmentor is init_model
    assert inference_segmentor is inference_model


def test_eglp_fusion_equals_test_py(tmp_path, toy_root):
    cfg = toy_config(str(tmp_path), 'toy_eglp_hrda_daformer_mitb0.py',
                     toy_root)
    ckpt = training_checkpoint(cfg, str(tmp_path / 'iter_4.pth'))
    model, results = _assert_api_equals_test_py(
        cfg, ckpt, tmp_path, toy_root, ['--test-model', 'fusion'],
        test_model='fusion')
    assert model.deployed_network == 'fusion'
    # the fusion differs from each teacher alone on this checkpoint
    teacher = init_model(cfg, ckpt, test_model='teacher')
    alone = inference_model(teacher, results[0].img_path)
    assert not torch.equal(alone.pred_sem_seg, results[0].pred_sem_seg)
    # default: the config's uda.test_model (the NFNet teacher)
    assert init_model(cfg, ckpt).deployed_network == 'nfnet_teacher'


def test_published_segmentor_checkpoint_loads(tmp_path, hrda):
    """A segmentor checkpoint (only the student, keys without ``model.``)
    predicts what the training checkpoint's student predicts."""
    cfg, ckpt = hrda
    state = torch.load(ckpt, weights_only=True)['state_dict']
    student = {k[len('model.'):]: v for k, v in state.items()
               if k.startswith('model.')}
    torch.save(dict(state_dict=student), tmp_path / 'published.pth')
    img = np.random.default_rng(0).integers(0, 256, (40, 70, 3), np.uint8)
    a = inference_model(init_model(cfg, ckpt), img)
    b = inference_model(init_model(cfg, str(tmp_path / 'published.pth')),
                        img)
    assert torch.equal(a.pred_sem_seg, b.pred_sem_seg)


@pytest.mark.parametrize('hw', [(1, 1), (25, 50), (170, 300)])
def test_any_size_gives_a_prediction_of_that_size(hrda, hw):
    cfg, ckpt = hrda
    model = init_model(cfg, ckpt)
    img = np.random.default_rng(1).integers(0, 256, (*hw, 3), np.uint8)
    result = inference_model(model, img)
    assert tuple(result.pred_sem_seg.shape) == hw
    assert tuple(result.seg_logits.shape) == (19, *hw)
    assert result.ori_shape == hw and result.img_path is None


def test_path_and_array_inputs_agree_and_lists_keep_order(tmp_path, hrda):
    cfg, ckpt = hrda
    model = init_model(cfg, ckpt)
    rng = np.random.default_rng(2)
    a = rng.integers(0, 256, (30, 40, 3), np.uint8)
    b = rng.integers(0, 256, (50, 20, 3), np.uint8)
    cv2.imwrite(str(tmp_path / 'a.png'), a)
    out = inference_model(model, [str(tmp_path / 'a.png'), b])
    assert [tuple(r.pred_sem_seg.shape) for r in out] == [(30, 40), (50, 20)]
    assert out[0].img_path == str(tmp_path / 'a.png')
    assert torch.equal(out[0].pred_sem_seg,
                       inference_model(model, a).pred_sem_seg)


def test_grey_rgba_and_16bit_inputs_are_converted(tmp_path, hrda):
    """As arrays and as files: grey -> 3 channels, BGRA -> alpha dropped,
    16-bit -> the high byte (OpenCV's IMREAD_COLOR)."""
    cfg, ckpt = hrda
    model = init_model(cfg, ckpt)
    rng = np.random.default_rng(3)
    bgr = rng.integers(0, 256, (40, 60, 3), np.uint8)
    grey = bgr[..., 0]
    bgra = np.dstack([bgr, np.full((40, 60), 7, np.uint8)])
    deep = bgr.astype(np.uint16) * 256 + 3  # high byte = bgr
    expect = inference_model(model, bgr).pred_sem_seg
    expect_grey = inference_model(model,
                                  np.dstack([grey] * 3)).pred_sem_seg
    for name, img, want in [('grey', grey, expect_grey),
                            ('grey1', grey[..., None], expect_grey),
                            ('bgra', bgra, expect), ('deep', deep, expect)]:
        assert torch.equal(inference_model(model, img).pred_sem_seg,
                           want), name
        cv2.imwrite(str(tmp_path / f'{name}.png'), img)
        assert torch.equal(inference_model(
            model, str(tmp_path / f'{name}.png')).pred_sem_seg, want), name


@pytest.mark.parametrize('img, match', [
    (np.zeros((4, 4, 3), np.float32), r'imgs\[1\]: array of dtype float32'),
    (np.zeros((4, 4, 2), np.uint8), r'imgs\[1\]: array of shape \(4, 4, 2\)'),
    (np.zeros((0, 4, 3), np.uint8), r'imgs\[1\]: empty image'),
    ([[1, 2]], r'imgs\[1\]: expected an image path or a numpy array'),
])
def test_unusable_arrays_are_refused_by_name(hrda, img, match):
    cfg, ckpt = hrda
    model = init_model(cfg, ckpt)
    with pytest.raises(ImageInputError, match=match):
        inference_model(model, [np.zeros((4, 4, 3), np.uint8), img])


def test_missing_or_corrupt_file_is_named(tmp_path, hrda):
    from mmseg.datasets.transforms.loading import CorruptFileError
    cfg, ckpt = hrda
    model = init_model(cfg, ckpt)
    with pytest.raises(FileNotFoundError, match='nope.png'):
        inference_model(model, str(tmp_path / 'nope.png'))
    (tmp_path / 'bad.png').write_bytes(b'not an image')
    with pytest.raises(CorruptFileError, match='bad.png'):
        inference_model(model, str(tmp_path / 'bad.png'))


def test_bf16_autocast_gives_float32_logits_close_to_fp32(hrda):
    cfg, ckpt = hrda
    model = init_model(cfg, ckpt)
    img = np.random.default_rng(4).integers(0, 256, (64, 96, 3), np.uint8)
    full = inference_model(model, img)
    half = inference_model(model, img, amp=True)
    assert half.seg_logits.dtype == torch.float32
    assert (half.pred_sem_seg == full.pred_sem_seg).float().mean() > 0.9


def test_config_object_and_bad_test_model(hrda):
    from mmengine.config import Config

    from mmseg.config import ConfigError
    cfg, ckpt = hrda
    model = init_model(Config.fromfile(cfg), ckpt,
                       cfg_options={'model.test_cfg.mode': 'whole'})
    assert model.test_cfg['mode'] == 'whole'
    with pytest.raises(ConfigError, match="'techer'"):
        init_model(cfg, ckpt, test_model='techer')
