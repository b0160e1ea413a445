"""tools/convert_weights.py: HuggingFace and mmseg 1.x MiT/SegFormer
weights into our keys, checked numerically against randomly initialised
HuggingFace models (``transformers`` is a test-only dependency; nothing is
downloaded)."""
import json
import os.path as osp

import pytest
import torch
import torch.nn.functional as F

from mmseg.utils.cli import run_cli
from tools.convert_weights import main as convert_main

transformers = pytest.importorskip(
    'transformers', reason='transformers (requirements-test.txt) is needed '
    'to build reference HuggingFace SegFormer models')
safetensors_torch = pytest.importorskip(
    'safetensors.torch', reason='safetensors (requirements-test.txt) is '
    'needed to write .safetensors files')

TOL = 1e-4
# b0 geometry (transformers' SegformerConfig defaults) and a small custom
# one whose head counts differ from MiT's, so config.json must be read
GEOMETRIES = {
    'b0': dict(),
    'custom': dict(hidden_sizes=[16, 32, 64, 128], depths=[1, 2, 1, 1],
                   num_attention_heads=[1, 2, 4, 8], sr_ratios=[4, 2, 2, 1],
                   decoder_hidden_size=48),
}


def _randomise_batch_norm(bn: torch.nn.BatchNorm2d) -> None:
    """Eval-mode BatchNorm must be converted with its running statistics."""
    with torch.no_grad():
        bn.running_mean.normal_()
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.normal_()
        bn.bias.normal_()


def _hf_segmentation(tmp_path, geometry: str, num_labels: int = 7):
    config = transformers.SegformerConfig(num_labels=num_labels,
                                          **GEOMETRIES[geometry])
    model = transformers.SegformerForSemanticSegmentation(config).eval()
    _randomise_batch_norm(model.decode_head.batch_norm)
    folder = tmp_path / f'hf_{geometry}'
    model.save_pretrained(str(folder))  # published key names, config.json
    return model, folder


def _save_bin(folder, name='pytorch_model.bin'):
    """The published ``pytorch_model.bin`` form of a saved model."""
    tensors = safetensors_torch.load_file(str(folder / 'model.safetensors'))
    torch.save(tensors, str(folder / name))
    return folder / name


def _load_converted(config_file, checkpoint):
    from mmseg.config import load_config
    from mmseg.models.weights import load_segmentor_checkpoint
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(load_config(str(config_file)).model)
    load_segmentor_checkpoint(model, str(checkpoint))
    return model.eval()


def _compare_segmentation(hf_model, ours, shape=(1, 3, 72, 104)):
    x = torch.randn(*shape)
    with torch.no_grad():
        ref = hf_model(x, output_hidden_states=True)
        maps = ours.backbone(x)
        for i, (a, b) in enumerate(zip(maps, ref.hidden_states)):
            assert a.shape == b.shape, i
            torch.testing.assert_close(a, b, atol=TOL, rtol=0)
        logits = ours.decode_head(maps)
        torch.testing.assert_close(logits, ref.logits, atol=TOL, rtol=0)
        # whole-image logits at input size = HF's logits upsampled as its
        # own loss/post-processing does (bilinear, align_corners=False)
        full = ours.encode_decode(x, [dict(img_shape=shape[2:])])
        torch.testing.assert_close(
            full, F.interpolate(ref.logits, size=shape[2:], mode='bilinear',
                                align_corners=False), atol=TOL, rtol=0)


@pytest.mark.parametrize('geometry', ['b0', 'custom'])
@pytest.mark.parametrize('file_format', ['safetensors', 'bin'])
def test_hf_segmentation_matches_huggingface(tmp_path, capsys, geometry,
                                             file_format):
    hf_model, folder = _hf_segmentation(tmp_path, geometry)
    src = folder / 'model.safetensors' if file_format == 'safetensors' \
        else _save_bin(folder)
    out = tmp_path / 'converted' / 'segformer.pth'
    report = convert_main([str(src), str(out)])
    text = capsys.readouterr().out
    assert report['format'] == 'hf-segformer-semseg'
    assert 'SegformerForSemanticSegmentation' in text
    assert text.count('sha256 ') == 2 and 'converted ' in text
    assert osp.isfile(str(out)) and osp.isfile(str(out)[:-4] + '.py')
    _compare_segmentation(hf_model, _load_converted(str(out)[:-4] + '.py',
                                                    out))
    if geometry == 'b0':
        assert "type='mit_b0'" in open(str(out)[:-4] + '.py').read()


def test_transformers5_in_memory_names_convert_too(tmp_path):
    """``model.state_dict()`` of transformers 5 (``stages.*``, ``q_proj``)
    reads like the published file."""
    hf_model, folder = _hf_segmentation(tmp_path, 'custom')
    src = folder / 'state_dict.pth'
    torch.save(hf_model.state_dict(), str(src))
    assert any('.stages.' in k for k in hf_model.state_dict()) or \
        any('encoder.block' in k for k in hf_model.state_dict())
    out = tmp_path / 'v5.pth'
    convert_main([str(src), str(out)])
    _compare_segmentation(hf_model, _load_converted(tmp_path / 'v5.py', out))


def _write_cityscapes_val(root, n=2, h=32, w=64):
    """A tiny Cityscapes val split (random images, random trainId labels)."""
    import cv2
    import numpy as np
    rng = np.random.default_rng(0)
    for i in range(n):
        stem = f'frankfurt/frankfurt_000000_{i:06d}'
        img = root / 'leftImg8bit' / 'val' / f'{stem}_leftImg8bit.png'
        lbl = root / 'gtFine' / 'val' / f'{stem}_gtFine_labelTrainIds.png'
        img.parent.mkdir(parents=True, exist_ok=True)
        lbl.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(img), rng.integers(0, 256, (h, w, 3), np.uint8))
        cv2.imwrite(str(lbl), rng.integers(0, 19, (h, w), np.uint8))


def test_cityscapes_model_runs_in_tools_test_as_written(tmp_path, capsys):
    """A Cityscapes-finetuned model gets the Cityscapes test data and
    SegFormer's 1024x1024 sliding windows; ``tools/test.py OUT.py OUT.pth``
    evaluates it (data_root pointed at a tiny generated split)."""
    from mmseg.datasets.cityscapes_labels import CLASSES
    config = transformers.SegformerConfig(
        num_labels=19, id2label={i: n for i, n in enumerate(CLASSES)},
        label2id={n: i for i, n in enumerate(CLASSES)},
        **dict(GEOMETRIES['custom'], sr_ratios=[8, 4, 2, 1]))
    model = transformers.SegformerForSemanticSegmentation(config)
    model.save_pretrained(str(tmp_path / 'hf'))
    out = tmp_path / 'cs.pth'
    convert_main([str(tmp_path / 'hf' / 'model.safetensors'), str(out)])
    assert 'not Cityscapes' not in capsys.readouterr().out
    from mmseg.config import load_config
    cfg = load_config(str(tmp_path / 'cs.py'))
    assert cfg.data.test.type == 'CityscapesDataset'
    assert cfg.model.test_cfg.mode == 'slide'
    assert cfg.model.decode_head.num_classes == 19
    _write_cityscapes_val(tmp_path / 'cityscapes')
    from tools.test import main as test_main
    metrics = test_main([str(tmp_path / 'cs.py'), str(out), '--eval',
                         'mIoU', '--cfg-options',
                         f'data.test.data_root={tmp_path}/cityscapes'])
    assert 0 <= metrics['mIoU'] <= 100


def test_other_class_sets_run_in_the_inference_api(tmp_path, capsys):
    """A 150-class (ADE20K-like) model: the written config has the test
    pipeline only; ``inference_model`` gives HuggingFace's logits, upsampled
    to the image, for an image the pipeline keeps at its size."""
    import numpy as np
    from mmseg.apis import inference_model, init_model
    hf_model, folder = _hf_segmentation(tmp_path, 'b0', num_labels=150)
    convert_main([str(folder / 'model.safetensors'),
                  str(tmp_path / 'ade.pth')])
    assert 'set data.test' in capsys.readouterr().out
    model = init_model(str(tmp_path / 'ade.py'), str(tmp_path / 'ade.pth'))
    assert model.dataset_meta['classes'][149] == 'class 149'
    bgr = np.random.default_rng(0).integers(0, 256, (512, 640, 3), np.uint8)
    result = inference_model(model, bgr)
    rgb = torch.from_numpy(bgr[:, :, ::-1].astype(np.float32).copy())
    mean = torch.tensor([123.675, 116.28, 103.53])
    std = torch.tensor([58.395, 57.12, 57.375])
    x = ((rgb - mean) / std).permute(2, 0, 1)[None]
    with torch.no_grad():
        ref = F.interpolate(hf_model(x).logits, size=(512, 640),
                            mode='bilinear', align_corners=False)[0]
    torch.testing.assert_close(result.seg_logits, ref, atol=TOL, rtol=0)


@pytest.mark.parametrize('classifier', [True, False])
def test_hf_encoder_loads_into_model_pretrained(tmp_path, capsys,
                                                classifier):
    """``nvidia/mit-b0``-style files (``SegformerForImageClassification``)
    and bare ``SegformerModel`` state dicts -> ``model.pretrained``."""
    config = transformers.SegformerConfig(num_labels=10)
    hf_cls = (transformers.SegformerForImageClassification if classifier
              else transformers.SegformerModel)
    hf = hf_cls(config).eval()
    hf.save_pretrained(str(tmp_path / 'mit'))
    out = tmp_path / 'mit_b0_converted.pth'
    report = convert_main([str(tmp_path / 'mit' / 'model.safetensors'),
                           str(out)])
    text = capsys.readouterr().out
    assert report['format'] == 'hf-mit-encoder'
    assert 'mit_b0' in text and ('classifier' in text) == classifier

    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(dict(
        type='EncoderDecoder', pretrained=str(out),
        backbone=dict(type='mit_b0', norm_eps=1e-5),
        decode_head=dict(type='SegFormerHead', in_channels=[32, 64, 160, 256],
                         in_index=[0, 1, 2, 3], channels=128, num_classes=3,
                         decoder_params=dict(embed_dim=32))))
    model.init_weights()
    model.eval()
    base = hf.segformer if classifier else hf
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref = base(x, output_hidden_states=True).hidden_states
        for a, b in zip(model.backbone(x), ref):
            torch.testing.assert_close(a, b, atol=TOL, rtol=0)


def _mmseg1x_from_ours(ours: dict) -> dict:
    """Our MiT keys -> mmseg 1.x's (the inverse mapping, for the test)."""
    out = {}
    names = {'norm1': 'norm1', 'norm2': 'norm2', 'attn.proj': 'attn.attn.'
             'out_proj', 'attn.sr': 'attn.sr', 'attn.norm': 'attn.norm',
             'mlp.fc1': 'ffn.layers.0', 'mlp.dwconv.dwconv': 'ffn.layers.1',
             'mlp.fc2': 'ffn.layers.4'}
    for key, v in ours.items():
        head, rest = key.split('.', 1)
        i = int(head[-1]) - 1
        if head.startswith('patch_embed'):
            part, param = rest.split('.')
            part = 'projection' if part == 'proj' else 'norm'
            out[f'backbone.layers.{i}.0.{part}.{param}'] = v
        elif head.startswith('norm'):
            out[f'backbone.layers.{i}.2.{rest}'] = v
        else:
            j, module, param = rest.split('.', 1)[0], *rest.split('.', 1)[1] \
                .rsplit('.', 1)
            if module in ('attn.q', 'attn.kv'):
                continue
            if module in ('mlp.fc1', 'mlp.fc2') and param == 'weight':
                v = v[:, :, None, None]
            out[f'backbone.layers.{i}.1.{j}.{names[module]}.{param}'] = v
            if module == 'norm1':
                pre = f'block{i + 1}.{j}.attn.'
                for p in ('weight', 'bias'):
                    out[f'backbone.layers.{i}.1.{j}.attn.attn.in_proj_{p}'] \
                        = torch.cat([ours[pre + 'q.' + p],
                                     ours[pre + 'kv.' + p]])
    out['decode_head.convs.0.conv.weight'] = torch.zeros(4, 32, 1, 1)
    return out


def test_mmseg1x_segformer_converts_its_backbone(tmp_path, capsys):
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    ours = MODELS.build(dict(type='mit_b0'))
    ours.init_weights()
    src = tmp_path / 'segformer_mit-b0_1x.pth'
    torch.save({'meta': {}, 'state_dict': _mmseg1x_from_ours(
        ours.state_dict())}, str(src))
    out = tmp_path / 'b0.pth'
    assert convert_main([str(src), str(out)])['format'] == 'mmseg1x-mit'
    assert 'left out 1' in capsys.readouterr().out
    converted = torch.load(str(out))['state_dict']
    for k, v in ours.state_dict().items():
        torch.testing.assert_close(converted[k], v, atol=0, rtol=0)


def test_mmseg1x_fused_attention_is_our_q_and_kv():
    """``nn.MultiheadAttention``'s fused in_proj (mmseg 1.x) computes what
    our ``q`` + ``kv`` compute after conversion."""
    from mmseg.models.backbones.mix_transformer import EfficientSelfAttention
    from mmseg.models.converters import mmseg1x_mit
    mha = torch.nn.MultiheadAttention(32, 2, batch_first=True).eval()
    state = {f'layers.0.1.0.attn.attn.{k}': v
             for k, v in mha.state_dict().items()}
    state = mmseg1x_mit.convert(state)
    attn = EfficientSelfAttention(32, 2).eval()
    attn.load_state_dict({k[len('block1.0.attn.'):]: v
                          for k, v in state.items()})
    x = torch.randn(2, 12, 32)
    with torch.no_grad():
        torch.testing.assert_close(attn(x, 3, 4), mha(x, x, x)[0],
                                   atol=1e-5, rtol=0)


def test_unknown_format_is_named_with_what_was_expected(tmp_path, capsys):
    src = tmp_path / 'resnet50.pth'
    torch.save({'conv1.weight': torch.zeros(1)}, str(src))
    assert run_cli(convert_main, [str(src), str(tmp_path / 'o.pth')],
                   prog='convert_weights.py') == 1
    err = capsys.readouterr().err
    assert str(src) in err and 'none of the known weight formats' in err
    assert 'SegformerForSemanticSegmentation' in err and 'mmseg 1.x' in err
    assert len(err.strip().splitlines()) == 1
    assert not osp.exists(str(tmp_path / 'o.pth'))


def test_our_own_format_and_missing_safetensors_are_named(tmp_path, capsys,
                                                          monkeypatch):
    src = tmp_path / 'mine.pth'
    torch.save({'patch_embed1.proj.weight': torch.zeros(1)}, str(src))
    assert run_cli(convert_main, [str(src), str(tmp_path / 'o.pth')]) == 1
    assert "already has this project's MiT keys" in capsys.readouterr().err
    import sys
    monkeypatch.setitem(sys.modules, 'safetensors.torch', None)
    st = tmp_path / 'model.safetensors'
    st.write_bytes(b'\x08\x00\x00\x00\x00\x00\x00\x00{"a": 1}')
    assert run_cli(convert_main, [str(st), str(tmp_path / 'o.pth')]) == 1
    assert 'needs the safetensors package' in capsys.readouterr().err
