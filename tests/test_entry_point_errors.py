"""Every entry point: a bad input ends in one line on stderr naming the
file, key or value, exit status 1 and no traceback; ``--debug`` shows the
traceback. The tools run as users run them (subprocesses), and fail before
any training or inference starts."""
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from mmseg.utils.cli import ensure_output_dir, one_line, run_cli

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = '''
model = dict(type='EncoderDecoder', pretrained=None,
             backbone=dict(type='mit_b0'), test_cfg=dict(mode='whole'))
data = dict(samples_per_gpu=1, workers_per_gpu=0,
            test=dict(type='DarkZurichDataset', data_root={root!r}))
optimizer = dict(type='AdamW', lr=6e-05)
runner = dict(type='IterBasedRunner', max_iters=4)
checkpoint_config = dict(by_epoch=False, interval=2)
evaluation = dict(interval=4, metric='mIoU')
'''


def run_tool(*args, cwd=REPO):
    """(exit status, stderr lines) of ``python <args>`` in the repository."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    done = subprocess.run([sys.executable, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)
    return done.returncode, [line for line in done.stderr.splitlines()
                             if line.strip()]


def assert_one_line_error(status, lines, tool, *names, prefixed=True):
    """Exit status 1, no traceback, the last stderr line is
    ``<tool>: error: ...`` (or a tool's own ``SystemExit`` message when not
    ``prefixed``) and names each of ``names``."""
    assert status == 1, lines
    assert not any('Traceback' in line for line in lines), lines
    if prefixed:
        assert lines[-1].startswith(f'{tool}: error: '), lines
    for name in names:
        assert name in lines[-1], (name, lines[-1])


@pytest.fixture
def config(tmp_path):
    path = tmp_path / 'cfg.py'
    path.write_text(CONFIG.format(root=str(tmp_path)))
    return str(path)


@pytest.fixture
def not_a_folder(tmp_path):
    """A regular file: folders below it cannot be created, even by root."""
    path = tmp_path / 'a_file'
    path.write_text('x')
    return str(path)


def test_train_missing_config_one_line_and_debug_traceback(tmp_path):
    missing = str(tmp_path / 'nope.py')
    status, lines = run_tool('tools/train.py', missing)
    assert_one_line_error(status, lines, 'train.py',
                          f'config file not found: {missing}')
    status, lines = run_tool('tools/train.py', missing, '--debug')
    assert status == 1 and any('Traceback' in line for line in lines)
    assert lines[-1] == f'FileNotFoundError: config file not found: {missing}'


def test_run_experiments_missing_config_writes_nothing(tmp_path):
    missing = str(tmp_path / 'nope.py')
    status, lines = run_tool('run_experiments.py', '--config', missing)
    assert_one_line_error(status, lines, 'run_experiments.py', missing)
    status, lines = run_tool('run_experiments.py', '--config', missing,
                             '--debug')
    assert status == 1 and any('Traceback' in line for line in lines)


def test_train_misspelt_cfg_option_names_key_and_suggestion(config, tmp_path):
    status, lines = run_tool('tools/train.py', config, '--work-dir',
                             str(tmp_path / 'run'), '--cfg-options',
                             'runner.max_iter=4')
    assert_one_line_error(status, lines, 'train.py', 'runner.max_iter',
                          config, 'did you mean "max_iters"')
    assert not osp.exists(tmp_path / 'run')


def test_test_unknown_metric_names_it(config, tmp_path):
    status, lines = run_tool('tools/test.py', config,
                             str(tmp_path / 'x.pth'), '--eval', 'mIoUU')
    assert_one_line_error(status, lines, 'test.py', '--eval',
                          'unknown metric "mIoUU"', 'did you mean "mIoU"')


@pytest.mark.slow
def test_test_unwritable_outputs_named_before_inference(config, tmp_path,
                                                        not_a_folder):
    show = osp.join(not_a_folder, 'show')
    status, lines = run_tool('tools/test.py', config, 'x.pth', '--show-dir',
                             show)
    assert_one_line_error(status, lines, 'test.py', '--show-dir', show)
    prefix = osp.join(not_a_folder, 'pred')
    status, lines = run_tool('tools/test.py', config, 'x.pth',
                             '--format-only', '--eval-option',
                             f'imgfile_prefix={prefix}')
    assert_one_line_error(status, lines, 'test.py', 'imgfile_prefix', prefix)


@pytest.mark.slow
def test_train_data_root_and_work_dir_named(config, tmp_path, not_a_folder):
    status, lines = run_tool('tools/train.py', config, '--cfg-options',
                             'data.test.data_root=/nonexistent/dz')
    assert_one_line_error(status, lines, 'train.py', 'data.test.data_root',
                          '/nonexistent/dz')
    work_dir = osp.join(not_a_folder, 'run')
    status, lines = run_tool('tools/train.py', config, '--work-dir', work_dir)
    assert_one_line_error(status, lines, 'train.py', work_dir)


@pytest.mark.slow
@pytest.mark.parametrize('tool, args, names', [
    ('benchmark.py', ['{config}', '--cfg-options', 'runner.max_iter=1'],
     ['runner.max_iter', 'max_iters']),
    ('benchmark.py', ['{missing}'], ['config file not found']),
    ('get_param_count.py', ['{missing}'], ['config file not found']),
    ('publish_model.py', ['{missing}', '{tmp}/out.pth'],
     ['checkpoint file not found']),
    ('publish_model.py', ['{missing}', '{not_a_folder}/out.pth'],
     ['{not_a_folder}']),
    ('collect_results.py', ['{tmp}/no_sweep'], ['{tmp}/no_sweep']),
    ('collect_results.py', ['{tmp}'], ['no finished run']),
    ('make_toy_data.py', ['--out', '{not_a_folder}/toy'],
     ['{not_a_folder}']),
    ('make_toy_pretrained.py', ['--config', '{missing}'], ['{missing}']),
    ('toy_stats.py', ['--root', '{tmp}/no_toy'], ['{tmp}/no_toy']),
    ('toy_panel.py', ['--root', '{tmp}/no_toy'], ['{tmp}/no_toy']),
    ('convert_datasets/cityscapes.py', ['{tmp}/no_cs'], ['{tmp}/no_cs']),
    ('convert_datasets/acdc.py', ['{tmp}/no_acdc'], ['{tmp}/no_acdc']),
    ('seco/dump_pseudo_labels.py', ['{missing}', 'x.pth', '{tmp}/out'],
     ['{missing}']),
    ('seco/run_psa.py', ['--help-not-a-flag'], None),
])
def test_every_tool_reports_one_line(tool, args, names, config, tmp_path,
                                     not_a_folder):
    values = dict(config=config, missing=str(tmp_path / 'nope.py'),
                  tmp=str(tmp_path), not_a_folder=not_a_folder)
    status, lines = run_tool(f'tools/{tool}',
                             *[a.format(**values) for a in args])
    if names is None:  # argparse's own one-line usage error
        assert status == 2 and 'Traceback' not in '\n'.join(lines)
        return
    assert_one_line_error(status, lines, osp.basename(tool),
                          *[n.format(**values) for n in names],
                          prefixed='acdc' not in tool)


@pytest.mark.slow
def test_converter_unwritable_out_dir_is_one_line(tmp_path, not_a_folder):
    labels = tmp_path / 'cs' / 'gtFine' / 'train' / 'aachen'
    labels.mkdir(parents=True)
    Image.fromarray(np.full((4, 4), 7, np.uint8)).save(
        labels / 'aachen_000000_000019_gtFine_labelIds.png')
    out = osp.join(not_a_folder, 'cs')
    status, lines = run_tool('tools/convert_datasets/cityscapes.py',
                             str(tmp_path / 'cs'), '-o', out)
    assert_one_line_error(status, lines, 'cityscapes.py', out)


def test_handler_keeps_exit_and_interrupt_and_strips_debug(capsys):
    seen = []

    def main(argv):
        seen.append(argv)
        raise KeyError("mit_b9 is not in the mmseg::model registry. Please "
                       'check ...')

    assert run_cli(main, ['a', '--debug'], prog='t.py') == 1
    assert seen[-1] == ['a']
    assert 'Traceback' in capsys.readouterr().err
    assert run_cli(main, ['a'], prog='t.py') == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith('t.py: error: unknown type "mit_b9"')
    assert '\n' not in err
    run_cli(main, ['--debug'], keep_debug_flag=True, prog='t.py')
    assert seen[-1] == ['--debug']

    def exits(argv):
        raise SystemExit(3)
    with pytest.raises(SystemExit):
        run_cli(exits, [])

    def interrupted(argv):
        raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        run_cli(interrupted, [])


def test_one_line_of_os_and_multi_line_errors():
    err = PermissionError(13, 'Permission denied', '/out/x.png')
    assert one_line(err) == 'Permission denied: /out/x.png'
    assert one_line(RuntimeError('first\nsecond')) == \
        'RuntimeError: first (+1 more lines with --debug)'


@pytest.mark.skipif(hasattr(os, 'geteuid') and os.geteuid() == 0,
                    reason='root may write into read-only folders')
def test_read_only_output_folder_is_named(tmp_path):
    folder = tmp_path / 'ro'
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(OSError, match='--show-dir .*ro.*not writable'):
            ensure_output_dir(str(folder), '--show-dir')
    finally:
        folder.chmod(0o755)


def test_output_folder_below_a_file_is_named(not_a_folder):
    with pytest.raises(OSError, match=r'--work-dir .*a_file/run: cannot '
                       r'create the folder'):
        ensure_output_dir(osp.join(not_a_folder, 'run'), '--work-dir')


def test_train_bad_cfg_options_all_named_in_one_line_before_building(
        config, tmp_path):
    status, lines = run_tool('tools/train.py', config, '--work-dir',
                             str(tmp_path / 'run'), '--cfg-options',
                             'runner.max_iters', 'runner.max_iters=0',
                             'runer.interval=3')
    assert_one_line_error(status, lines, 'train.py',
                          '--cfg-options runner.max_iters: not KEY=VALUE',
                          '--cfg-options runner.max_iters=0: expected a '
                          'whole number >= 1', 'runer.interval',
                          'did you mean "runner"')
    assert not osp.exists(tmp_path / 'run')


def test_test_names_a_missing_work_dir_with_exit_1(tmp_path):
    missing = str(tmp_path / 'work_dirs' / 'my_rnu')
    status, lines = run_tool('tools/test.py', missing, '--eval', 'mIoU')
    assert_one_line_error(status, lines, 'test.py',
                          f'config file or work dir not found: {missing}')
    assert not any(line.startswith('usage:') for line in lines)
    folder = tmp_path / 'not_a_run'
    folder.mkdir()
    status, lines = run_tool('tools/test.py', str(folder), '--eval', 'mIoU')
    assert_one_line_error(status, lines, 'test.py', str(folder),
                          'no config dump')


TOOLS = sorted(
    osp.relpath(p, REPO) for pattern in ('tools/*.py', 'tools/*/*.py')
    for p in __import__('glob').glob(osp.join(REPO, pattern))
    if not osp.basename(p).startswith('_')
    and osp.basename(p) != 'seco_files.py') + ['run_experiments.py']

HELP_DRIVER = '''
import contextlib, io, json, runpy, sys
shown = {}
for tool in sys.argv[1:]:
    sys.argv = [tool, '--help']
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            runpy.run_path(tool, run_name='__main__')
        except SystemExit:
            pass
    shown[tool] = out.getvalue()
print(json.dumps(shown))
'''


def test_every_tool_lists_debug_in_its_help():
    import json
    assert len(TOOLS) >= 18, TOOLS
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    done = subprocess.run([sys.executable, '-c', HELP_DRIVER, *TOOLS],
                          cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    shown = json.loads(done.stdout.splitlines()[-1])
    for tool in TOOLS:
        assert 'usage:' in shown[tool], (tool, shown[tool])
        assert '--debug' in shown[tool], tool
