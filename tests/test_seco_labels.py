"""SeCoLabels refiner: replaces only the pixels where a SeCo label exists."""
import numpy as np
import pytest
import torch

from mmseg.models.uda.parts.context import PseudoLabels, UDAStepContext
from mmseg.seco.relabel import write_label
from mmseg.registry import MODELS


def _pseudo():
    return PseudoLabels(label=torch.full((1, 2, 3), 4),
                        weight=torch.full((1, 2, 3), 0.3),
                        logits=torch.zeros(1, 19, 2, 3),
                        confident_fraction=torch.tensor(0.5))


SECO = [[255, 7, 255], [1, 255, 255]]


def _check(out):
    assert out.label.tolist() == [[[4, 7, 4], [1, 4, 4]]]
    expected = torch.tensor([[[0.3, 1, 0.3], [1, 0.3, 0.3]]])
    assert torch.allclose(out.weight, expected)


def test_replaces_defined_pixels_from_the_sample():
    refiner = MODELS.build(dict(type='SeCoLabels'))
    target = {'seco_label': torch.tensor(SECO).view(1, 1, 2, 3)}
    ctx = UDAStepContext(iteration=0, source={}, target=target, student=None)
    out = refiner.refine(ctx, _pseudo())
    _check(out)
    assert out.logits is not None
    # the teacher's share of confident pixels (logged) is kept
    assert out.confident_fraction.item() == 0.5


def test_reads_folder_by_base_name_and_flips(tmp_path):
    write_label(np.array(SECO, dtype=np.uint8)[:, ::-1],
                str(tmp_path / 'frame_0001_rgb_anon.png'))
    refiner = MODELS.build(dict(type='SeCoLabels', label_dir=str(tmp_path)))
    metas = [{'ori_filename': 'night/GOPR/frame_0001_rgb_anon.jpg',
              'flip': True, 'flip_direction': 'horizontal'}]
    ctx = UDAStepContext(iteration=0, source={}, target={'img_metas': metas},
                         student=None)
    _check(refiner.refine(ctx, _pseudo()))


def test_size_mismatch_and_missing_source_are_explained(tmp_path):
    write_label(np.zeros((4, 4), np.uint8), str(tmp_path / 'a.png'))
    refiner = MODELS.build(dict(type='SeCoLabels', label_dir=str(tmp_path)))
    ctx = UDAStepContext(iteration=0, source={}, student=None,
                         target={'img_metas': [{'ori_filename': 'a.png'}]})
    with pytest.raises(ValueError, match='seg field'):
        refiner.refine(ctx, _pseudo())
    ctx.target = {}
    with pytest.raises(ValueError, match='seco_label'):
        MODELS.build(dict(type='SeCoLabels')).refine(ctx, _pseudo())


def test_seco_label_travels_through_the_target_pipeline(tmp_path):
    import cv2
    import numpy as np

    from mmseg.datasets.transforms.crop import RandomCrop
    from mmseg.datasets.transforms.flip import RandomFlip
    from mmseg.datasets.transforms.pack import PackSegInputs
    from mmseg.datasets.transforms.seco_label import LoadSeCoLabel
    img = np.zeros((8, 12, 3), np.uint8)
    label = np.full((8, 12), 255, np.uint8)
    label[:, :6] = 3
    (tmp_path / 'seco').mkdir()
    cv2.imwrite(str(tmp_path / 'seco' / 'frame_1.png'), label)
    results = dict(img=img, filename='/x/frame_1.png',
                   rng=np.random.default_rng(0))
    results = LoadSeCoLabel(str(tmp_path / 'seco'))(results)
    results = RandomFlip(prob=1.0)(results)
    results = RandomCrop((8, 12))(results)
    sample = PackSegInputs()(results)
    seco = sample['seco_label'][0]
    assert seco.shape == (8, 12)
    assert (seco[:, 6:] == 3).all() and (seco[:, :6] == 255).all()
    img_only = dict(img=img, filename='/x/other.png')
    assert (LoadSeCoLabel(str(tmp_path / 'seco'))(img_only)['seco_label']
            == 255).all()
