"""Config keys: --cfg-options must change an existing key or one that is
read; mmseg 1.x names are mapped onto ours or refused naming ours; data
roots, metrics and registry types are named in one-line errors."""
import pytest

from mmseg.config import ConfigError, load_config, unknown_type_error
from mmseg.config.options import CfgOptions, add_cfg_options_argument
from mmseg.errors import closest_name, did_you_mean

BASE = '''
data_root = 'data/dark_zurich/'
model = dict(type='EncoderDecoder', pretrained=None,
             backbone=dict(type='mit_b0'),
             decode_head=dict(type='SegFormerHead', in_channels=[32, 64, 160, 256],
                              in_index=[0, 1, 2, 3], channels=32, num_classes=19),
             test_cfg=dict(mode='whole'))
uda = dict(type='DACS', alpha=0.99, pseudo_threshold=0.968)
data = dict(samples_per_gpu=2, workers_per_gpu=0,
            train=dict(type='CityscapesDataset', data_root=data_root,
                       rare_class_sampling=dict(min_pixels=10)),
            val=dict(type='DarkZurichDataset', data_root=data_root))
optimizer = dict(type='AdamW', lr=6e-05, weight_decay=0.01)
optimizer_config = None
runner = dict(type='IterBasedRunner', max_iters=40000)
checkpoint_config = dict(by_epoch=False, interval=4000, max_keep_ckpts=1)
evaluation = dict(interval=4000, metric='mIoU')
log_config = dict(interval=50, img_interval=1000)
seed = 0
'''


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text(BASE)
    return str(path)


def _load(config, **options):
    return load_config(config, {k.replace('__', '.'): v
                                for k, v in options.items()})


def test_mmseg1x_names_are_read_as_ours(config, capsys):
    cfg = load_config(config, {
        'train_cfg.max_iters': 4, 'train_cfg.val_interval': 2,
        'default_hooks.checkpoint.interval': 2,
        'default_hooks.checkpoint.max_keep_ckpts': 3,
        'default_hooks.logger.interval': 1, 'randomness.seed': 7,
        'randomness.deterministic': True,
        'optim_wrapper.optimizer.lr': 0.5,
        'optim_wrapper.clip_grad': dict(max_norm=1.0),
        'train_dataloader.batch_size': 1,
        'train_dataloader.num_workers': 3,
        'env_cfg.cudnn_benchmark': False})
    assert cfg.runner.max_iters == 4 and cfg.evaluation.interval == 2
    assert cfg.checkpoint_config.interval == 2
    assert cfg.checkpoint_config.max_keep_ckpts == 3
    assert cfg.log_config.interval == 1
    assert cfg.seed == 7 and cfg.deterministic is True
    assert cfg.optimizer.lr == 0.5 and cfg.optimizer.type == 'AdamW'
    assert cfg.optimizer_config.grad_clip == dict(max_norm=1.0)
    assert cfg.data.samples_per_gpu == 1 and cfg.data.workers_per_gpu == 3
    assert cfg.cudnn_benchmark is False
    assert 'train_cfg' not in cfg and 'randomness' not in cfg
    assert 'train_cfg.max_iters: mmseg 1.x name, read as runner.max_iters' \
        in capsys.readouterr().out


@pytest.mark.parametrize('key, ours', [
    ('val_cfg.type', 'evaluation.interval'),
    ('train_cfg.type', 'runner.max_iters'),
    ('default_hooks.visualization.draw', 'checkpoint_config'),
    ('param_scheduler.power', 'lr_config'),
    ('val_evaluator.iou_metrics', 'evaluation.metric_options'),
    ('log_processor.window_size', 'log_config'),
])
def test_mmseg1x_names_without_a_counterpart_name_ours(config, key, ours):
    with pytest.raises(ConfigError, match=rf'--cfg-options {key}: .*1\.x.*'
                       rf'{ours}'):
        load_config(config, {key: 1})


def test_mmseg1x_keys_in_a_file_are_refused_naming_ours(tmp_path, config):
    child = tmp_path / 'child.py'
    child.write_text(f'_base_ = [{config!r}]\n'
                     'randomness = dict(seed=1)\n')
    with pytest.raises(ConfigError, match=r'child\.py.*"randomness".*1\.x'
                       r'.*seed and deterministic'):
        load_config(str(child))


def test_visualizer_and_logger_hooks_are_accepted(config):
    cfg = load_config(config, {
        'visualizer.vis_backends': [dict(type='TensorboardVisBackend')],
        'log_config.hooks': [dict(type='TensorboardLoggerHook')],
        'dist_params.backend': 'gloo', 'amp.dtype': 'bfloat16'})
    assert cfg.visualizer.vis_backends[0].type == 'TensorboardVisBackend'
    assert cfg.log_config.hooks[0].type == 'TensorboardLoggerHook'
    assert cfg.dist_params.backend == 'gloo'


@pytest.mark.parametrize('key, message', [
    ('runer.max_iters', r'has no key "runer" \(did you mean "runner"\?\)'),
    ('runner.max_iter', r'no key "max_iter" in runner .*did you mean '
     r'"max_iters"'),
    ('checkpoint_config.intervall', r'no key "intervall" in '
     r'checkpoint_config.*did you mean "interval"'),
    ('uda.pseudo_treshold', r'no key "pseudo_treshold" in uda \(DACS takes '
     r'no argument.*did you mean "pseudo_threshold"'),
    ('data.train.img_sufix', r'CityscapesDataset takes no argument.*'
     r'did you mean "img_suffix"'),
    ('data.train.rare_class_sampling.min_pixel', r'a plain dict.*did you '
     r'mean "min_pixels"'),
    ('model.test_cfg.mod', r'no key "mod" in model.test_cfg.*"mode"'),
    ('optimizer.weight_decai', r'AdamW takes no argument.*"weight_decay"'),
    ('model.backbone.type.x', r'model.backbone.type is \'mit_b0\''),
    ('model.backbone.embed_dim', r'mit_b0 takes no argument.*"embed_dims"'),
])
def test_unknown_and_misspelt_keys_are_refused(config, key, message):
    with pytest.raises(ConfigError, match=message) as info:
        load_config(config, {key: 1})
    assert str(info.value).startswith(f'--cfg-options {key}: ')
    assert 'cfg.py' in str(info.value)


def test_new_keys_the_class_or_section_reads_are_accepted(config):
    cfg = load_config(config, {
        'uda.imnet_feature_dist_lambda': 0.005,      # a DACS argument
        'model.backbone.drop_path_rate': 0.0,        # mit_b0 builds MiT
        'data.train.img_suffix': '.jpg',             # a dataset argument
        'optimizer.betas': (0.9, 0.99),              # an AdamW argument
        'optimizer.paramwise_cfg': dict(custom_keys={}),
        'model.test_cfg.crop_size': (64, 64),        # read by inference
        'model.test_cfg.stride': (32, 32),
        'lr_config.warmup_iters': 10,                # our section
        'optimizer_config.grad_clip': dict(max_norm=1.0),  # None in file
        'load_from': None})                          # known top-level key
    assert cfg.uda.imnet_feature_dist_lambda == 0.005
    assert cfg.model.backbone.drop_path_rate == 0.0
    assert cfg.data.train.img_suffix == '.jpg'
    assert cfg.model.test_cfg.crop_size == (64, 64)
    assert cfg.optimizer_config.grad_clip.max_norm == 1.0


def test_overriding_a_file_variable_names_the_keys_that_hold_it(config):
    with pytest.raises(ConfigError, match=r'"data_root" is a variable .*'
                       r'changes nothing.*data\.train\.data_root, '
                       r'data\.val\.data_root'):
        load_config(config, {'data_root': '/tmp'})


def test_missing_data_root_names_key_and_path(config, tmp_path):
    with pytest.raises(ConfigError, match=r'data\.val\.data_root='
                       r'/nonexistent/dz: folder not found'):
        load_config(config, {'data.val.data_root': '/nonexistent/dz'})
    cfg = load_config(config, {'data.val.data_root': str(tmp_path)})
    assert cfg.data.val.data_root == str(tmp_path)


def test_keys_the_builder_sets_name_the_key_to_set(config):
    with pytest.raises(ConfigError, match=r'uda\.max_iters is set from '
                       r'runner\.max_iters'):
        load_config(config, {'uda.max_iters': 5})


def test_text_for_a_number_names_key_and_value(config):
    with pytest.raises(ConfigError, match=r'runner\.max_iters=abc: expected '
                       r'an integer .*has 40000'):
        load_config(config, {'runner.max_iters': 'abc'})


@pytest.mark.parametrize('line, message', [
    ("evaluation = dict(metric='mDice')", r'unknown metric "mDice"'),
    ("workflow = [('train', 1), ('val', 1)]", r'workflow=.*not supported'),
    ('gpu_ids = [1]', r'gpu_ids is not read.*CUDA_VISIBLE_DEVICES'),
    ('checkpoint_config = dict(by_epoch=True)', r'checkpoint_config\.by_epoch'
     r'=True is not supported'),
    ('max_iters = 4', r'top-level "max_iters" is not read; use '
     r'runner\.max_iters'),
    ('interval = 4', r'checkpoint_config\.interval or evaluation\.interval '
     r'or log_config\.interval'),
])
def test_known_keys_with_values_we_do_not_honour_are_refused(
        tmp_path, config, line, message):
    child = tmp_path / 'child.py'
    child.write_text(f'_base_ = [{config!r}]\n{line}\n')
    with pytest.raises(ConfigError, match=message):
        load_config(str(child))


def test_registry_miss_names_key_path_config_and_closest_type(config):
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules
    register_all_modules()
    cfg = load_config(config, {'model.backbone.type': 'mit_b9'})
    with pytest.raises(KeyError) as info:
        MODELS.build(cfg.model)
    error = unknown_type_error(info.value, cfg, 'cfg.py')
    assert str(error).startswith('model.backbone.type: unknown type '
                                 '"mit_b9" in config cfg.py (did you mean '
                                 '"mit_b')
    assert unknown_type_error(KeyError('other'), cfg, 'cfg.py') is None


def _parse(*entries):
    import argparse
    parser = argparse.ArgumentParser()
    add_cfg_options_argument(parser)
    return parser.parse_args(['--cfg-options', *entries]).cfg_options


def test_an_entry_that_is_not_key_value_is_named(config):
    options = _parse('runner.max_iters=4', 'runner.max_iters', '=3')
    assert options == {'runner.max_iters': 4}
    assert options.malformed == ['runner.max_iters', '=3']
    with pytest.raises(ConfigError) as err:
        load_config(config, options)
    message = str(err.value)
    assert '\n' not in message
    assert '--cfg-options runner.max_iters: not KEY=VALUE' in message
    assert '--cfg-options =3: not KEY=VALUE' in message


def test_entries_of_two_cfg_options_flags_are_merged():
    import argparse
    parser = argparse.ArgumentParser()
    add_cfg_options_argument(parser)
    options = parser.parse_args(['--cfg-options', 'a=1', 'b', '--cfg-options',
                                 'c=[1,2]', 'd']).cfg_options
    assert isinstance(options, CfgOptions)
    assert options == {'a': 1, 'c': [1, 2]} and options.malformed == ['b', 'd']


@pytest.mark.parametrize('key, value, words', [
    ('runner.max_iters', 0, 'expected a whole number >= 1'),
    ('runner.max_iters', -5, 'expected a whole number >= 1'),
    ('runner.max_iters', 2.5, 'expected a whole number >= 1'),
    ('evaluation.interval', 0, 'expected a whole number >= 1'),
    ('data.samples_per_gpu', 0, 'expected a whole number >= 1'),
    ('data.workers_per_gpu', -1, 'expected a whole number >= 0'),
    ('uda.alpha', 1.5, 'expected a number in [0, 1]'),
    ('uda.pseudo_threshold', -0.1, 'expected a number in [0, 1]'),
])
def test_a_value_its_key_cannot_take_is_named(config, key, value, words):
    with pytest.raises(ConfigError) as err:
        load_config(config, {key: value})
    assert str(err.value).startswith(f'--cfg-options {key}={value}: {words}')
    assert config in str(err.value)


def test_a_probability_above_one_in_a_plug_in_is_named():
    import os.path as osp
    toy = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                   'configs', 'toy', 'toy_eglp_hrda_daformer_mitb0.py')
    for key in ('uda.dms.mask_prob', 'uda.mix_augmenters.0.prob'):
        with pytest.raises(ConfigError, match=f'{key}=1.5: expected a '
                           r'number in \[0, 1\]'):
            load_config(toy, {key: 1.5})
    cfg = load_config(toy, {'uda.dms.mask_prob': 1.0,
                            'uda.mix_augmenters.0.prob': 0})
    assert cfg.uda.dms.mask_prob == 1.0 and cfg.uda.mix_augmenters[0].prob == 0


def test_values_in_range_and_non_numbers_pass(config):
    cfg = load_config(config, {'runner.max_iters': 1, 'uda.alpha': 1.0,
                               'data.workers_per_gpu': 0,
                               'evaluation.interval': 10})
    assert cfg.runner.max_iters == 1 and cfg.uda.alpha == 1.0


def test_every_bad_entry_of_a_command_line_is_named_at_once(config):
    options = _parse('runer.max_iters=4', 'uda.alpah=0.9', 'runner.max_iters=0',
                     'seed', 'train_cfg=1', 'log_config.interval=10')
    with pytest.raises(ConfigError) as err:
        load_config(config, options)
    message = str(err.value)
    assert '\n' not in message
    for words in ('--cfg-options seed: not KEY=VALUE',
                  '--cfg-options runer.max_iters: config',
                  'did you mean "runner"', '--cfg-options uda.alpah:',
                  'did you mean "alpha"', '--cfg-options runner.max_iters=0',
                  '"train_cfg" is an mmseg 1.x key'):
        assert words in message, (words, message)
    assert 'log_config' not in message  # a good entry is not named
    assert message.count(' | ') == 4


def test_every_misspelt_top_level_key_of_a_file_is_named(tmp_path):
    path = tmp_path / 'typos.py'
    path.write_text('runer = dict(max_iters=4)\nmodle = dict()\n'
                    'acdc_val = dict()\n')
    with pytest.raises(ConfigError) as err:
        load_config(str(path))
    assert 'unknown key "runer" in config' in str(err.value)
    assert 'did you mean "runner"' in str(err.value)
    assert 'unknown key "modle" in config' in str(err.value)
    assert 'did you mean "model"' in str(err.value)
    assert 'acdc_val' not in str(err.value)  # a helper variable


def test_one_did_you_mean_helper():
    assert did_you_mean('mIoUU', ['mIoU', 'aAcc']) == ' (did you mean "mIoU"?)'
    assert did_you_mean('zzz', ['mIoU']) == ''
    # with max_edits: the fewest edits win, farther names are no typo
    assert closest_name('runer', ['runner', 'run'], max_edits=2) == 'runner'
    assert closest_name('acdc_val', ['data', 'name'], max_edits=2) is None
