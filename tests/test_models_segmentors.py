import os.path as osp

import pytest
import torch
from mmengine import Config
from mmengine.optim import OptimWrapper

from mmseg.models.segmentors.encoder_decoder import slide_windows
from mmseg.models.segmentors.hrda_encoder_decoder import HRDAEncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import register_all_modules

register_all_modules()

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL_CFGS = osp.join(ROOT, 'configs', '_base_', 'models')


def tiny_daformer_cfg(num_classes=5):
    cfg = Config.fromfile(osp.join(MODEL_CFGS, 'daformer_sepaspp_mitb0.py'))
    cfg.model.decode_head.update(channels=32, num_classes=num_classes)
    cfg.model.decode_head.decoder_params.embed_dims = 32
    return cfg.model


def tiny_hrda_cfg(num_classes=5):
    cfg = Config.fromfile(osp.join(MODEL_CFGS, 'hrda_wrapper.py'))
    cfg.merge_from_dict(dict(model=dict(
        pretrained=None, backbone=dict(type='mit_b0'),
        decode_head=dict(in_channels=[32, 64, 160, 256], channels=32,
                         num_classes=num_classes, attention_embed_dim=16,
                         decoder_params=dict(embed_dims=32)),
        hr_crop_size=[32, 32],
        test_cfg=dict(crop_size=[64, 64], stride=[32, 32]))))
    return cfg.model


def build(cfg, eval_mode=False):
    model = MODELS.build(cfg)
    model.init_weights()
    return model.eval() if eval_mode else model


def metas(b, h=64, w=64, ori=None, flip=False):
    return [dict(img_shape=(h, w), ori_shape=ori or (h, w), flip=flip,
                 flip_direction='horizontal') for _ in range(b)]


def batch(b=2, size=64, num_classes=5):
    return dict(img=torch.randn(b, 3, size, size),
                gt_semantic_seg=torch.randint(0, num_classes,
                                              (b, 1, size, size)),
                img_metas=metas(b, size, size))


def test_encoder_decoder_forward_train_loss_keys_and_features():
    model = build(tiny_daformer_cfg())
    data = batch()
    losses = model.forward_train(data['img'], data['img_metas'],
                                 data['gt_semantic_seg'], return_feat=True)
    assert set(losses) == {'features', 'decode.loss_seg', 'decode.acc_seg'}
    assert [f.shape[1] for f in losses['features']] == [32, 64, 160, 256]


def test_forward_loss_ignores_extra_sample_keys_and_trains_via_train_step():
    model = build(tiny_daformer_cfg())
    data = batch()
    data['valid_pseudo_mask'] = torch.ones(2, 1, 64, 64, dtype=torch.uint8)
    losses = model(**data, mode='loss')
    loss, log_vars = model.parse_losses(losses)
    assert set(log_vars) == {'loss', 'decode.loss_seg', 'decode.acc_seg'}
    assert torch.allclose(loss, losses['decode.loss_seg'])
    before = model.decode_head.conv_seg.weight.detach().clone()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    log = model.train_step(data, optim)
    assert 'decode.loss_seg' in log
    assert not torch.equal(before, model.decode_head.conv_seg.weight)


def test_seg_weight_scales_the_loss():
    model = build(tiny_daformer_cfg(), eval_mode=True)
    data = batch()
    full = model.forward_train(data['img'], data['img_metas'],
                               data['gt_semantic_seg'])
    half = model.forward_train(data['img'], data['img_metas'],
                               data['gt_semantic_seg'],
                               seg_weight=torch.full((2, 64, 64), 0.5))
    assert half['decode.loss_seg'].item() == pytest.approx(
        0.5 * full['decode.loss_seg'].item(), rel=1e-5)


def test_slide_windows_are_clamped_inside_the_image():
    boxes = slide_windows(100, 60, (64, 64), (32, 32))
    assert boxes == [(0, 64, 0, 60), (32, 96, 0, 60), (36, 100, 0, 60)]


def test_slide_inference_equals_whole_when_window_covers_image():
    model = build(tiny_daformer_cfg(), eval_mode=True)
    img, m = torch.randn(1, 3, 64, 64), metas(1)
    whole = model.whole_inference(img, m, rescale=True)
    model.test_cfg = dict(mode='slide', crop_size=(64, 64), stride=(32, 32))
    assert torch.allclose(model.slide_inference(img, m, True), whole,
                          atol=1e-5)


def test_batched_slide_equals_sequential_slide():
    model = build(tiny_daformer_cfg(), eval_mode=True)
    img, m = torch.randn(2, 3, 64, 96), metas(2, 64, 96)
    model.test_cfg = dict(mode='slide', crop_size=(64, 64), stride=(32, 32))
    sequential = model.slide_inference(img, m, rescale=False)
    model.test_cfg['batched_slide'] = True
    assert torch.allclose(model.slide_inference(img, m, False), sequential,
                          atol=1e-5)


def test_predict_returns_ori_shape_maps_gt_and_metas():
    model = build(tiny_daformer_cfg(), eval_mode=True)
    data = batch(2)
    data['img_metas'] = metas(2, ori=(80, 96))
    results = model(**data, mode='predict')
    assert len(results) == 2
    assert results[0]['pred_sem_seg'].shape == (80, 96)
    assert results[0]['pred_sem_seg'].dtype == torch.int64
    assert torch.equal(results[1]['gt_sem_seg'], data['gt_semantic_seg'][1, 0])
    assert results[0]['img_metas']['ori_shape'] == (80, 96)
    no_gt = model(data['img'], data['img_metas'], mode='predict')
    assert 'gt_sem_seg' not in no_gt[0]
    assert model.val_step(data)[0]['pred_sem_seg'].shape == (80, 96)


def test_predict_handles_images_of_different_original_shapes():
    model = build(tiny_daformer_cfg(), eval_mode=True)
    m = metas(2)
    m[1]['ori_shape'] = (32, 48)
    results = model(torch.randn(2, 3, 64, 64), m, mode='predict')
    assert [r['pred_sem_seg'].shape for r in results] == [(64, 64), (32, 48)]


def test_inference_undoes_horizontal_flip():
    model = build(tiny_daformer_cfg(), eval_mode=True)
    img = torch.randn(1, 3, 64, 64)
    plain = model.inference(img, metas(1), rescale=True)
    flipped = model.inference(img, metas(1, flip=True), rescale=True)
    assert torch.allclose(flipped, plain.flip(3))
    assert torch.allclose(plain.sum(1), torch.ones(1, 64, 64), atol=1e-5)


def test_tensor_mode_returns_logits_at_input_size():
    model = build(tiny_daformer_cfg(), eval_mode=True)
    out = model(torch.randn(1, 3, 64, 64), metas(1), mode='tensor')
    assert out.shape == (1, 5, 64, 64)


def test_generate_pseudo_label_is_encode_decode():
    model = build(tiny_hrda_cfg(), eval_mode=True)
    img = torch.randn(1, 3, 64, 64)
    assert torch.equal(model.generate_pseudo_label(img, metas(1)),
                       model.encode_decode(img, metas(1)))


def test_auxiliary_head_is_rejected():
    cfg = tiny_daformer_cfg()
    cfg.auxiliary_head = dict(type='DLV2Head')
    with pytest.raises(NotImplementedError, match='auxiliary'):
        MODELS.build(cfg)


def test_hrda_injects_scales_and_crop_settings_into_the_head():
    model = MODELS.build(tiny_hrda_cfg())
    assert model.scales == [0.5, 1]
    assert model.decode_head.scales == [0.5, 1]
    assert model.decode_head.enable_hr_crop
    assert model.decode_head.hr_slide_inference
    assert model.decode_head.hr_loss_weight == 0.1


def test_hrda_crop_box_is_divisible_inside_and_seedable():
    model = MODELS.build(tiny_hrda_cfg())
    model.crop_coord_divisible = 8
    for seed in range(20):
        y1, y2, x1, x2 = model.get_crop_box(
            (2, 3, 64, 96), torch.Generator().manual_seed(seed))
        assert y1 % 8 == 0 and x1 % 8 == 0
        assert (y2 - y1, x2 - x1) == (32, 32)
        assert 0 <= y1 and y2 <= 64 and 0 <= x1 and x2 <= 96
    boxes = [model.get_crop_box((64, 96), torch.Generator().manual_seed(3))
             for _ in range(2)]
    assert boxes[0] == boxes[1]
    assert model.get_crop_box((32, 32)) == (0, 32, 0, 32)


def test_hrda_forward_train_loss_keys_and_lr_features():
    model = build(tiny_hrda_cfg())
    data = batch()
    state_before = set(vars(model))
    losses = model.forward_train(data['img'], data['img_metas'],
                                 data['gt_semantic_seg'], return_feat=True)
    assert set(losses) == {'features', 'decode.loss_seg', 'decode.acc_seg',
                           'decode.hr.loss_seg', 'decode.hr.acc_seg'}
    # feature_scale 0.5: features of the 32x32 LR image
    assert losses['features'][0].shape == (2, 32, 8, 8)
    assert set(vars(model)) == state_before
    assert not hasattr(HRDAEncoderDecoder, 'last_train_crop_box')


def test_hrda_explicit_crop_box_makes_the_loss_reproducible():
    model = build(tiny_hrda_cfg(), eval_mode=True)
    data = batch()
    args = (data['img'], data['img_metas'], data['gt_semantic_seg'])
    a = model.forward_train(*args, crop_box=(8, 40, 16, 48))
    b = model.forward_train(*args, crop_box=(8, 40, 16, 48))
    c = model.forward_train(*args, crop_box=(32, 64, 32, 64))
    assert a['decode.hr.loss_seg'] == b['decode.hr.loss_seg']
    assert a['decode.hr.loss_seg'] != c['decode.hr.loss_seg']


def test_hrda_all_feature_scales_need_the_crop_box():
    cfg = tiny_hrda_cfg()
    cfg.feature_scale = 'all'
    model = build(cfg)
    img = torch.randn(1, 3, 64, 64)
    with pytest.raises(ValueError, match='crop_box'):
        model.extract_feat(img)
    lr, hr = model.extract_feat(img, crop_box=(0, 32, 32, 64))
    assert lr[0].shape == (1, 32, 8, 8) and hr[0].shape == (1, 32, 8, 8)


def test_hrda_inference_slides_hr_windows_and_predicts_at_ori_shape():
    model = build(tiny_hrda_cfg(), eval_mode=True)
    img = torch.randn(1, 3, 64, 96)
    feats = model.extract_slide_feat(img)
    # 32-px windows, stride 16 (overlapping): 3 rows x 5 columns
    assert feats['boxes'] == [(y, y + 32, x, x + 32) for y in (0, 16, 32)
                              for x in (0, 16, 32, 48, 64)]
    assert feats['features'][0].shape[0] == 15
    assert model.encode_decode(img, metas(1, 64, 96)).shape == (1, 5, 64, 96)
    results = model(img, metas(1, 64, 96, ori=(32, 48)), mode='predict')
    assert results[0]['pred_sem_seg'].shape == (32, 48)


def test_deeplabv2_resnet_builds_and_trains_on_tiny_input():
    cfg = Config.fromfile(osp.join(MODEL_CFGS, 'deeplabv2_r50-d8.py')).model
    cfg.pretrained = None
    cfg.decode_head.num_classes = 3
    model = build(cfg)
    data = batch(1, 32, num_classes=3)
    losses = model(**data, mode='loss')
    assert set(losses) == {'decode.loss_seg', 'decode.acc_seg'}
    losses['decode.loss_seg'].backward()
    assert model.backbone.stem[0].weight.grad is not None


def test_param_count_tool_reports_encoder_and_decoder(capsys):
    from tools.get_param_count import human, main
    assert human(81443008) == '81.44M' and human(530707) == '530.71K'
    main([osp.join(MODEL_CFGS, 'daformer_sepaspp_mitb0.py')])
    out = capsys.readouterr().out
    assert 'encoder' in out and '3.32M' in out and 'total' in out


def test_benchmark_tool_times_a_training_iteration():
    from tools.benchmark import main
    report = main([osp.join(MODEL_CFGS, 'daformer_sepaspp_mitb0.py'),
                   '--crop', '32', '32', '--batch', '1', '--iters', '1',
                   '--warmup', '0', '--device', 'cpu'])
    assert report['median_s_per_iter'] > 0
    assert report['memory_kind'] == 'process_peak_rss_increase'
