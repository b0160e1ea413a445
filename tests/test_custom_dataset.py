"""Your own class set: the converter, the class set from the dataset config
(heads, UDA parts, metric, legends, rare class sampling) and the example
configs under configs/custom/ trained end to end."""
import importlib.util
import json
import logging
import math
import os
import os.path as osp
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from e2e_config import REPO, write_tiny_custom_config
from mmseg.datasets.base_seg_dataset import CustomSegDataset
from mmseg.datasets.class_set import default_palette
from mmseg.datasets.class_stats import ClassStatsError
from mmseg.datasets.rare_class_sampling import RareClassSampler
from mmseg.engine.build import model_cfg_from
from mmseg.engine.class_set_cfg import resolve_uda_classes
from mmseg.config import load_config
from mmseg.errors import ConfigError
from mmseg.evaluation.visualize import show_image

CLASSES5 = ('flat', 'construction', 'nature and sky', 'vehicle',
            'human and object')
CS_CLASSES_OF_TOY5 = {0: 0, 1: 0, 2: 1, 8: 2, 10: 2, 13: 3, 11: 4}


def load_converter():
    path = osp.join(REPO, 'tools', 'convert_datasets', 'custom.py')
    spec = importlib.util.spec_from_file_location('convert_custom', path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # worker processes unpickle by name
    spec.loader.exec_module(module)
    return module


def save(path, array):
    os.makedirs(osp.dirname(path), exist_ok=True)
    Image.fromarray(array).save(path)


def read(path):
    return np.array(Image.open(path))


def write_dataset_config(path, classes, palette=None):
    with open(path, 'w') as f:
        f.write(f'classes = {tuple(classes)!r}\n'
                f'palette = {palette!r}\n'
                'data = dict(train=dict(type="CustomSegDataset", '
                'img_dir="img", ann_dir="lbl", classes=classes, '
                'palette=palette, pipeline=[]))\n')
    return str(path)


# ------------------------------------------------------------ converter
def test_mapping_json_converts_ids_and_writes_stats(tmp_path, capsys):
    label = np.array([[0, 1, 2, 8], [13, 11, 255, 10]], np.uint8)
    save(str(tmp_path / 'lbl' / 'a' / 'x_labelTrainIds.png'), label)
    load_converter().main([
        str(tmp_path), '--ann-dir', 'lbl', '--seg-map-suffix',
        '_labelTrainIds.png', '--out-suffix', '_toy5.png', '--mapping',
        osp.join(REPO, 'configs', 'custom', 'toy5_mapping.json')])
    out = read(str(tmp_path / 'lbl' / 'a' / 'x_toy5.png'))
    np.testing.assert_array_equal(out, [[0, 0, 1, 2], [3, 4, 255, 2]])
    with open(tmp_path / 'sample_class_stats.json') as f:
        stats = json.load(f)
    assert stats == [{'0': 2, '1': 1, '2': 2, '3': 1, '4': 1,
                      'file': str(tmp_path / 'lbl' / 'a' / 'x_toy5.png')}]
    printed = capsys.readouterr().out
    assert ('custom: 1 of 1 label files converted, 0 skipped, 0 suspicious; '
            'RCS stats of 1 labels in') in printed
    assert '5 classes from' in printed and 'human and object' in printed


def test_mapping_csv_and_unmapped_ids_are_named_and_counted(tmp_path, capsys):
    label = np.array([[0, 11, 13, 40, 40, 41]], np.uint8)
    save(str(tmp_path / 'lbl' / 'x.png'), label)
    load_converter().main([
        str(tmp_path), '--ann-dir', 'lbl', '--mapping',
        osp.join(REPO, 'configs', 'custom', 'toy2_mapping.csv')])
    out = read(str(tmp_path / 'lbl' / 'x_labelTrainIds.png'))
    np.testing.assert_array_equal(out, [[0, 1, 1, 255, 255, 255]])
    captured = capsys.readouterr()
    assert 'unknown id 40: 2 pixels in 1 files' in captured.err
    assert 'unknown id 41: 1 pixels in 1 files' in captured.err
    assert '1 suspicious' in captured.out


def test_rgb_labels_through_the_config_palette_name_an_unknown_colour(
        tmp_path, capsys):
    palette = [[128, 64, 128], [0, 0, 142]]
    cfg = write_dataset_config(tmp_path / 'cfg.py', ('road', 'car'), palette)
    rgb = np.zeros((2, 3, 3), np.uint8)
    rgb[0, :] = palette[0]
    rgb[1, :2] = palette[1]
    rgb[1, 2] = (1, 2, 3)  # a colour the palette lacks
    save(str(tmp_path / 'lbl' / 'x_color.png'), rgb)
    save(str(tmp_path / 'lbl' / 'y_color.png'), rgb)
    load_converter().main([
        str(tmp_path), '--ann-dir', 'lbl', '--seg-map-suffix', '_color.png',
        '--palette-labels', '--config', cfg, '--nproc', '2'])
    out = read(str(tmp_path / 'lbl' / 'x_labelTrainIds.png'))
    np.testing.assert_array_equal(out, [[0, 0, 0], [1, 1, 255]])
    captured = capsys.readouterr()
    assert 'unknown colour (1, 2, 3): 2 pixels in 2 files' in captured.err
    assert 'x_color.png: 1 of 6 pixels hold colours not in the mapping ' \
        '((1, 2, 3): 1 px)' in captured.err
    assert '2 of 2 label files converted, 0 skipped, 2 suspicious' in \
        captured.out


def test_colour_mapping_file_merges_colours(tmp_path):
    mapping = tmp_path / 'm.json'
    mapping.write_text(json.dumps({'ground': ['#804080', [244, 35, 232]],
                                   'ignore': ['0 0 0']}))
    rgb = np.array([[[128, 64, 128], [244, 35, 232], [0, 0, 0]]], np.uint8)
    save(str(tmp_path / 'lbl' / 'x.png'), rgb)
    load_converter().main([str(tmp_path), '--ann-dir', 'lbl', '--mapping',
                           str(mapping), '--palette-labels', '--no-stats'])
    np.testing.assert_array_equal(
        read(str(tmp_path / 'lbl' / 'x_labelTrainIds.png')), [[0, 0, 255]])
    assert not (tmp_path / 'sample_class_stats.json').exists()


def test_wrong_kind_of_label_file_is_skipped_named_and_fails(tmp_path,
                                                             capsys):
    save(str(tmp_path / 'lbl' / 'good.png'), np.zeros((2, 2), np.uint8))
    save(str(tmp_path / 'lbl' / 'rgb.png'), np.zeros((2, 2, 3), np.uint8))
    (tmp_path / 'lbl' / 'cut.png').write_bytes(b'\x89PNG\r\n\x1a\n trunc')
    with pytest.raises(SystemExit, match='2 label files skipped'):
        load_converter().main([
            str(tmp_path), '--ann-dir', 'lbl', '--mapping',
            osp.join(REPO, 'configs', 'custom', 'toy2_mapping.csv')])
    err = capsys.readouterr().err
    assert 'rgb.png' in err and 'colour-coded label' in err
    assert 'cut.png: cannot decode' in err
    assert osp.isfile(tmp_path / 'lbl' / 'good_labelTrainIds.png')


@pytest.mark.parametrize('content, message', [
    ('{"a": [1], "b": [1]}', "already mapped to 'a'"),
    ('{"a": ["x"]}', "'x' is not a label id"),
    ('{"ignore": [255]}', 'no class'),
    ('[1, 2]', 'expected a JSON object'),
    ('{"a": [1]', 'cannot read the mapping'),
])
def test_bad_mapping_files_are_refused_naming_the_file(tmp_path, content,
                                                       message):
    mapping = tmp_path / 'm.json'
    mapping.write_text(content)
    save(str(tmp_path / 'lbl' / 'x.png'), np.zeros((2, 2), np.uint8))
    with pytest.raises(ConfigError, match=message) as err:
        load_converter().main([str(tmp_path), '--ann-dir', 'lbl',
                               '--mapping', str(mapping)])
    assert str(mapping) in str(err.value)
    assert not osp.exists(tmp_path / 'lbl' / 'x_labelTrainIds.png')


def test_mapping_and_config_classes_must_agree(tmp_path):
    cfg = write_dataset_config(tmp_path / 'cfg.py', ('dynamic', 'static'))
    with pytest.raises(ConfigError, match='same names in the same order'):
        load_converter().main([
            str(tmp_path), '--ann-dir', 'lbl', '--config', cfg, '--mapping',
            osp.join(REPO, 'configs', 'custom', 'toy2_mapping.csv')])


def test_converter_stats_drive_rare_class_sampling(tmp_path, caplog):
    big = np.zeros((20, 20), np.uint8)  # flat everywhere
    rare = big.copy()
    rare[:5, :5] = 13  # 25 vehicle pixels
    save(str(tmp_path / 'lbl' / 'a.png'), big)
    save(str(tmp_path / 'lbl' / 'b.png'), rare)
    load_converter().main([
        str(tmp_path), '--ann-dir', 'lbl', '--mapping',
        osp.join(REPO, 'configs', 'custom', 'toy5_mapping.json')])
    files = {'a_labelTrainIds.png': 0, 'b_labelTrainIds.png': 1}
    sampler = RareClassSampler(str(tmp_path), files, class_temp=0.01,
                               min_pixels=10)
    assert sampler.classes == [0, 3]
    assert sampler.indices_with_class == {0: [0, 1], 3: [1]}
    rng = np.random.default_rng(0)
    draws = [sampler.draw(rng) for _ in range(50)]
    assert all(idx == 1 for cls, idx in draws if cls == 3)
    assert sum(cls == 3 for cls, _ in draws) > 40  # the rare class wins
    # a fraction of the crop: 0.1 of 10x10 = 10 pixels
    frac = RareClassSampler(str(tmp_path), files, min_pixels=0.1,
                            crop_pixels=100)
    assert frac.min_pixels == 10 and frac.indices_with_class[3] == [1]
    with pytest.raises(ClassStatsError, match='no RandomCrop'):
        RareClassSampler(str(tmp_path), files, min_pixels=0.1)


def test_min_pixels_warns_naming_the_key_when_few_images_are_eligible(
        tmp_path, monkeypatch):
    import mmseg.datasets.rare_class_sampling as rcs
    logged = []
    monkeypatch.setattr(rcs, 'print_log',
                        lambda msg, **kw: logged.append(msg))
    stats = [{'0': 5, 'file': f'l{i}.png'} for i in range(20)]
    stats[0]['0'] = 500
    with_class = {'0': [[s['file'], s['0']] for s in stats]}
    (tmp_path / 'sample_class_stats.json').write_text(json.dumps(stats))
    (tmp_path / 'samples_with_class.json').write_text(json.dumps(with_class))
    files = {f'l{i}.png': i for i in range(20)}
    RareClassSampler(str(tmp_path), files, min_pixels=100)
    assert len(logged) == 1 and 'rare_class_sampling.min_pixels=100' in \
        logged[0] and '5.0% of the 20 source images' in logged[0]
    logged.clear()
    RareClassSampler(str(tmp_path), files, min_pixels=1)
    assert logged == []


# ------------------------------------------------------- the class set
def test_dataset_classes_and_palette_from_the_config(tmp_path):
    save(str(tmp_path / 'img' / 'x.jpg'), np.zeros((2, 2, 3), np.uint8))
    ds = CustomSegDataset(pipeline=[], img_dir=str(tmp_path / 'img'),
                          classes=['bg', 'fg'])
    assert ds.metainfo == dict(classes=('bg', 'fg'),
                               palette=default_palette(2))
    assert ds.num_classes == 2
    assert CustomSegDataset.CLASSES[0] == 'road'  # the class is unchanged
    with pytest.raises(ValueError, match='palette has 1 colours but classes '
                       'has 2'):
        CustomSegDataset(pipeline=[], img_dir=str(tmp_path / 'img'),
                         classes=['bg', 'fg'], palette=[[0, 0, 0]])
    with pytest.raises(ValueError, match=r"classes repeat \['bg'\]"):
        CustomSegDataset(pipeline=[], img_dir=str(tmp_path / 'img'),
                         classes=['bg', 'bg'])


def test_head_num_classes_must_match_the_dataset_classes():
    cfg = load_config(osp.join(REPO, 'configs', 'custom',
                               'toy5_hrda_daformer_mitb0.py'))
    assert model_cfg_from(cfg)['model']['decode_head']['num_classes'] == 5
    cfg.model.decode_head.num_classes = 19
    with pytest.raises(ConfigError) as err:
        model_cfg_from(cfg)
    message = str(err.value)
    assert 'model.decode_head.num_classes=19' in message
    assert 'data.train.source.classes has 5 classes' in message
    assert '\n' not in message


def test_val_dataset_with_other_classes_is_refused():
    cfg = load_config(osp.join(REPO, 'configs', 'custom',
                               'toy5_hrda_daformer_mitb0.py'))
    cfg.data.val.classes = ('a', 'b')
    with pytest.raises(ConfigError, match='data.val.classes has 2 classes'):
        model_cfg_from(cfg)


def test_uda_class_lists_by_name_and_num_classes_of_parts():
    uda = dict(type='DACS', imnet_feature_dist_classes=['vehicle', 'flat'],
               mix_augmenters=[dict(type='RCM',
                                    classes=['vehicle'])])
    out = resolve_uda_classes(uda, CLASSES5, 'data.train.source.classes')
    assert out['imnet_feature_dist_classes'] == [3, 0]
    assert out['mix_augmenters'][0]['classes'] == [3]
    assert out['mix_augmenters'][0]['num_classes'] == 5
    dms = resolve_uda_classes(
        dict(dms=dict(type='DMS', exempt=['vehicle'],
                      similarity=dict(ema=0.99))), CLASSES5, 'x')['dms']
    assert dms['exempt'] == [3] and dms['similarity']['num_classes'] == 5
    with pytest.raises(ConfigError, match="no class named 'car'"):
        resolve_uda_classes(dict(imnet_feature_dist_classes=['car']),
                            CLASSES5, 'x')
    with pytest.raises(ConfigError, match='mix_augmenters\\[0\\].classes '
                       'defaults to Cityscapes train ids'):
        resolve_uda_classes(dict(mix_augmenters=[dict(
            type='RCM')]), CLASSES5, 'x')
    with pytest.raises(ConfigError, match=r'mixer.groups defaults to '
                       r'Cityscapes train ids.*rules dict\(when'):
        resolve_uda_classes(dict(mixer=dict(type='GroupedClassMix')),
                            CLASSES5, 'x')
    mixer = resolve_uda_classes(dict(mixer=dict(
        type='GroupedClassMix', groups=[dict(when=['human and object'],
                                             add=['vehicle'])])),
        CLASSES5, 'x')['mixer']
    assert mixer['groups'] == [dict(when=[4], add=[3])]
    with pytest.raises(ConfigError, match=r"mixer.groups\[0\].add: no class "
                       "named 'bicycle'"):
        resolve_uda_classes(dict(mixer=dict(
            type='GroupedClassMix', groups=[dict(when=['vehicle'],
                                                 add=['bicycle'])])),
            CLASSES5, 'x')
    with pytest.raises(ConfigError, match='num_classes=19 but x has 5'):
        resolve_uda_classes(dict(mix_augmenters=[dict(
            type='RCM', classes=[3], num_classes=19)]),
            CLASSES5, 'x')


def test_show_image_legend_uses_the_dataset_classes_and_palette():
    img = np.zeros((40, 400, 3), np.uint8)
    pred = np.zeros((40, 400), np.int64)
    pred[:, 200:] = 1
    palette = [[10, 200, 30], [250, 5, 100]]
    out = show_image(img, pred, classes=('bg', 'fg'), palette=palette)
    legend = out[40 + 22:]  # below the titled panel
    for r, g, b in palette:  # BGR swatches in the legend
        assert np.any(np.all(legend == (b, g, r), axis=-1))


def test_debug_figure_legend_names_the_dataset_classes():
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from mmseg.engine.hooks.debug_image_hook import (colorize,
                                                     label_legend)
    palette = [[10, 200, 30], [250, 5, 100]]
    label = torch.tensor([[[0, 1], [255, 1]]])
    np.testing.assert_array_equal(colorize(label[0].numpy(), palette)[0],
                                  palette)
    fig = plt.figure()
    names = label_legend(fig, {'source_gt': label},
                         [('source_gt', 'Source GT', 'label')], 0,
                         ('bg', 'fg'), palette)
    plt.close(fig)
    assert names == ['bg', 'fg']


# ------------------------------------------------------------ end to end
@pytest.fixture(scope='module')
def converted_toy(tmp_path_factory):
    """A tiny toy set with the 5- and 2-class labels and stats."""
    from mmseg.datasets.toy_data import make_toy_dataset
    root = str(tmp_path_factory.mktemp('custom') / 'toy')
    make_toy_dataset(root, 0, num_source_train=4, num_source_val=1,
                     num_target_train=4, num_target_val=2, num_target_test=1,
                     num_prompts=1)
    convert = load_converter().main
    for n, mapping in ((5, 'toy5_mapping.json'), (2, 'toy2_mapping.csv')):
        common = ['--seg-map-suffix', '_labelTrainIds.png', '--out-suffix',
                  f'_toy{n}.png', '--mapping',
                  osp.join(REPO, 'configs', 'custom', mapping)]
        convert([f'{root}/cityscapes', '--ann-dir', 'gtFine/train',
                 '--stats-dir', f'{root}/cityscapes/toy{n}', *common])
        convert([f'{root}/dark_zurich', '--ann-dir', 'gt/val', '--no-stats',
                 *common])
    return root


@pytest.mark.slow
@pytest.mark.parametrize('config, classes', [
    ('toy5_hrda_daformer_mitb0.py', CLASSES5),
    ('toy2_hrda_daformer_mitb0.py', ('static', 'dynamic')),
])
def test_custom_configs_train_and_test_with_their_classes(
        tmp_path, converted_toy, config, classes, capsys):
    from tools.test import main as run_test
    from tools.train import main as train_main
    n = len(classes)
    cfg = write_tiny_custom_config(str(tmp_path), config, converted_toy,
                                   f'{converted_toy}/cityscapes/toy{n}',
                                   img_interval=2)
    run = str(tmp_path / 'run')
    train_main([cfg, '--work-dir', run])
    assert osp.isfile(osp.join(run, 'iter_4.pth'))
    assert osp.isfile(osp.join(run, 'debug', '000002_0.png'))
    capsys.readouterr()
    metrics = run_test([cfg, osp.join(run, 'iter_4.pth'), '--eval', 'mIoU',
                        '--out', str(tmp_path / 'res.json'), '--plot',
                        str(tmp_path / 'plots'), '--show-dir',
                        str(tmp_path / 'show')])
    assert [k[4:] for k in metrics if k.startswith('IoU.')] == list(classes)
    assert math.isfinite(metrics['mIoU'])
    with open(tmp_path / 'res.json') as f:
        assert list(json.load(f)['per_class']) == list(classes)
    assert sorted(os.listdir(tmp_path / 'plots')) == [
        'confusion_matrix.png', 'iou_per_class.png']
    shown = [osp.join(d, f) for d, _, fs in os.walk(tmp_path / 'show')
             for f in fs]
    assert len(shown) == 2
    ckpt = osp.join(run, 'iter_4.pth')
    with pytest.raises(ValueError, match='to_label_id=False'):
        run_test([cfg, ckpt, '--format-only', '--eval-option',
                  f'imgfile_prefix={tmp_path}/ids'])
    run_test([cfg, ckpt, '--format-only', '--eval-option',
              f'imgfile_prefix={tmp_path}/pngs', 'to_label_id=False'])
    png = Image.open(next(osp.join(d, f) for d, _, fs in
                          os.walk(tmp_path / 'pngs') for f in fs))
    palette = load_config(cfg).palette
    assert png.getpalette()[:3 * n] == [v for c in palette for v in c]
    assert int(np.array(png).max()) < n


def test_training_stops_before_it_starts_on_a_head_mismatch(
        tmp_path, converted_toy):
    from tools.train import main as train_main
    cfg = write_tiny_custom_config(
        str(tmp_path), 'toy5_hrda_daformer_mitb0.py', converted_toy,
        f'{converted_toy}/cityscapes/toy5',
        extra='model = dict(decode_head=dict(num_classes=19))\n')
    with pytest.raises(ConfigError, match='num_classes=19 but data.train.'
                       'source.classes has 5 classes'):
        train_main([cfg, '--work-dir', str(tmp_path / 'run')])
    assert not any(f.endswith('.pth') for _, _, fs in
                   os.walk(tmp_path) for f in fs)
