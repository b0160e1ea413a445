"""SeCo SCC: components, median filtering, and correction of noisy labels."""
import numpy as np
import pytest

from mmseg.seco.classifier import TrainConfig, crop_patch
from mmseg.seco.components import (connected_components, paint_components,
                                   spatial_purity)
from mmseg.seco.relabel import (class_thresholds, confident_labels,
                                keep_components, ratio_threshold)
from mmseg.seco.scc import SCCConfig, semantic_connectivity_correction


def test_connected_components_are_8_connected_per_class():
    label = np.array([[1, 0, 0, 2],
                      [0, 1, 0, 2],
                      [0, 0, 0, 255],
                      [1, 1, 0, 2]], dtype=np.uint8)
    comps = connected_components(label, 'img')
    summary = sorted((c.label, c.area) for c in comps)
    # class 1: diagonal pair joins (8-conn), bottom pair separate
    assert summary == [(0, 8), (1, 2), (1, 2), (2, 1), (2, 2)]
    repainted = paint_components(label.shape, comps, [c.label for c in comps])
    assert np.array_equal(repainted, label)
    assert connected_components(label, min_area=2, classes=[2])[0].area == 2


def test_spatial_purity_is_lowest_in_homogeneous_regions():
    label = np.zeros((9, 9), dtype=np.uint8)
    label[:, 5:] = 1
    purity = spatial_purity(label, num_classes=2, radius=1)
    assert purity[4, 1] < 1e-4  # pure neighbourhood
    assert purity[4, 4] > 0.5  # straddles the boundary


def test_thresholds_and_filter_modes():
    assert ratio_threshold([0.1, 0.5, 0.2, 0.3], 0.5) == 0.3  # upper median
    losses = np.array([0.1, 0.2, 0.9, 1.0, 3.0, 4.0])
    pred = np.array([0, 0, 0, 1, 1, 1])
    assert class_thresholds(losses, pred).tolist() == [0.2] * 3 + [3.0] * 3
    assert keep_components(losses, pred, 'loss').tolist() == \
        [True, True, True, True, False, False]  # global median 1.0
    assert keep_components(losses, pred, 'local_loss').tolist() == \
        [True, True, False, True, True, False]
    # both: above the class threshold and above their mean (1.6)
    assert keep_components(losses, pred, 'both_loss').tolist() == \
        [True, True, True, True, True, False]
    assert keep_components(losses, pred, None).all()
    with pytest.raises(ValueError):
        keep_components(losses, pred, 'score')


def test_confident_labels():
    probs = np.array([[[0.95, 0.5]], [[0.05, 0.5]]])
    assert confident_labels(probs, 0.9).tolist() == [[0, 255]]


def test_crop_patch_centres_and_grows_for_large_components():
    label = np.zeros((20, 40), dtype=np.uint8)
    label[2:18, 5:35] = 1
    comp = [c for c in connected_components(label) if c.label == 1][0]
    image = np.full((20, 40, 3), 200, dtype=np.uint8)
    img, mask = crop_patch(image, comp, (8, 16))
    assert img.shape == (8, 16, 3) and mask.shape == (8, 16)
    assert mask[4, 8] == 1 and mask.sum() > 0.5 * mask.size


COLOURS = np.array([[30, 30, 30], [220, 40, 40], [40, 40, 220]])


def _synthetic(n_images=24, noise=0.3, seed=0):
    """Images of coloured blocks; labels with whole-component flips."""
    rng = np.random.default_rng(seed)
    images, clean, noisy = {}, {}, {}
    for k in range(n_images):
        truth = np.zeros((24, 48), dtype=np.uint8)
        wrong = truth.copy()
        for cell in range(4):  # separated blocks in a 1x4 grid of cells
            cls = int(rng.integers(1, 3))
            x0 = cell * 12 + 2
            truth[4:20, x0:x0 + 8] = cls
            flip = rng.random() < noise
            wrong[4:20, x0:x0 + 8] = 3 - cls if flip else cls
        img = COLOURS[truth] + rng.integers(-15, 16, truth.shape + (3, ))
        images[f'im{k}'] = np.clip(img, 0, 255).astype(np.uint8)
        clean[f'im{k}'], noisy[f'im{k}'] = truth, wrong
    return images, clean, noisy


def _precision(labels, clean):
    hit = sum(((lab == clean[n]) & (lab != 255)).sum()
              for n, lab in labels.items())
    return hit / sum((lab != 255).sum() for lab in labels.values())


def test_scc_removes_noise_measurably():
    images, clean, noisy = _synthetic()
    cfg = SCCConfig(num_classes=3, patch_size=(16, 16), width=8, depth=2,
                    filter_mode=None,
                    train=TrainConfig(epochs=10, batch_size=16, lr=0.05,
                                      backbone_lr_factor=1.0))
    before = _precision(noisy, clean)
    result = semantic_connectivity_correction(noisy, images.__getitem__, cfg)
    after = _precision(result.labels, clean)
    assert before < 0.9 and after > before + 0.1
    # the loss filter keeps mostly the correctly relabelled components
    keep = keep_components(result.loss, result.pred, 'loss')
    noisy_label = np.array([c.label for c in result.components])
    flipped = np.array([clean[c.image][c.full_mask((24, 48))][0] != c.label
                        for c in result.components])
    assert keep[flipped].mean() < keep[~flipped].mean()
    assert (noisy_label[flipped] != result.pred[flipped]).mean() > 0.7


def test_dropped_components_become_ignore():
    images, clean, noisy = _synthetic(n_images=4)
    cfg = SCCConfig(num_classes=3, patch_size=(8, 8), width=4, depth=1,
                    filter_mode='loss', relabel=False,
                    train=TrainConfig(epochs=1, batch_size=8))
    result = semantic_connectivity_correction(noisy, images.__getitem__, cfg)
    assert 0 < result.keep.sum() < len(result.keep)
    for i in np.flatnonzero(~result.keep):
        comp = result.components[i]
        assert (result.labels[comp.image][comp.full_mask((24, 48))]
                == 255).all()


def test_run_scc_command_line(tmp_path):
    import importlib.util
    import os.path as osp

    from PIL import Image
    path = osp.join(osp.dirname(__file__), '..', 'tools', 'seco', 'run_scc.py')
    spec = importlib.util.spec_from_file_location('run_scc', path)
    run_scc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_scc)
    images, clean, noisy = _synthetic(n_images=3)
    (tmp_path / 'img' / 'sub').mkdir(parents=True)
    (tmp_path / 'lab').mkdir()
    for name in images:
        Image.fromarray(images[name]).save(tmp_path / 'img' / 'sub' /
                                           f'{name}.jpg')
        Image.fromarray(noisy[name]).save(tmp_path / 'lab' / f'{name}.png')
    run_scc.main(['--img-dir', str(tmp_path / 'img'), '--label-dir',
                  str(tmp_path / 'lab'), '--out-dir', str(tmp_path / 'out'),
                  '--num-classes', '3', '--epochs', '1', '--batch-size', '4',
                  '--patch-size', '8', '8', '--width', '4', '--depth', '1',
                  '--filter-mode', 'loss', '--stats',
                  str(tmp_path / 'stats.npz')])
    for name in images:
        out = np.array(Image.open(tmp_path / 'out' / f'{name}.png'))
        assert out.shape == (24, 48) and set(np.unique(out)) <= {0, 1, 2, 255}
    assert np.load(tmp_path / 'stats.npz')['keep'].size == 15


def test_run_scc_takes_the_class_count_from_a_config(tmp_path):
    import importlib.util
    import os.path as osp
    path = osp.join(osp.dirname(__file__), '..', 'tools', 'seco', 'run_scc.py')
    spec = importlib.util.spec_from_file_location('run_scc_classes', path)
    run_scc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run_scc)
    root = osp.join(osp.dirname(__file__), '..')
    base = ['--img-dir', 'i', '--label-dir', 'l', '--out-dir', 'o']
    cfg = osp.join(root, 'configs', 'custom', 'toy5_hrda_daformer_mitb0.py')
    args = run_scc.parse_args(base + ['--config', cfg])
    assert run_scc.class_count(args) == 5
    assert run_scc.class_count(run_scc.parse_args(
        base + ['--num-classes', '3'])) == 3
    with pytest.raises(SystemExit):  # one of the two is needed
        run_scc.parse_args(base)
