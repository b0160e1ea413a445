"""Runs as users manage them, end to end on tiny toy data: Ctrl-C prints the
resume command and that command resumes; ``tools/test.py WORK_DIR`` takes
the run's config dump and latest checkpoint; ``--format-only`` writes under
the work dir; the terminal and log stay readable."""
import glob
import os
import os.path as osp
import shlex
import sys

import pytest
from mmengine.hooks import Hook

from e2e_config import write_tiny_config
from mmseg.registry import HOOKS
from mmseg.utils.checkpoint_io import load_checkpoint_file
from tools.test import main as run_test
from tools.train import main as train_main

pytestmark = pytest.mark.slow


@HOOKS.register_module(force=True)
class InterruptOnce(Hook):
    """Raises KeyboardInterrupt (as Ctrl-C does) after ``iteration``, the
    first time only: the marker file remembers it."""

    def __init__(self, iteration: int, marker: str) -> None:
        self.iteration = iteration
        self.marker = marker

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None):
        if runner.iter + 1 == self.iteration and not osp.exists(self.marker):
            open(self.marker, 'w').close()
            raise KeyboardInterrupt


@pytest.fixture(scope='module')
def interrupted_run(tmp_path_factory):
    """A tiny HRDA run stopped by Ctrl-C after iteration 3 (checkpoint at 2),
    then resumed with the command it printed."""
    tmp = tmp_path_factory.mktemp('runs')
    extra = (f"custom_hooks = [dict(type='InterruptOnce', iteration=3, "
             f"marker={str(tmp / 'interrupted')!r})]\n")
    cfg = write_tiny_config(str(tmp), 'toy_hrda_daformer_mitb0.py',
                            str(tmp / 'toy'), iters=4, ckpt_interval=2,
                            img_interval=4, extra=extra)
    work_dir = str(tmp / 'run')
    return cfg, work_dir


def test_ctrl_c_prints_one_line_whose_command_resumes(interrupted_run,
                                                      capfd, monkeypatch):
    import run_experiments
    cfg, work_dir = interrupted_run
    with pytest.raises(SystemExit) as stop:
        train_main([cfg, '--work-dir', work_dir])
    assert stop.value.code == 130
    out, err = capfd.readouterr()
    assert 'Traceback' not in out + err
    lines = [l for l in out.splitlines() if l.startswith('interrupted')]
    assert len(lines) == 1, out
    line = lines[0]
    assert line.startswith('interrupted in iteration 3; last checkpoint ')
    assert line.split('; ')[1].endswith('iter_2.pth')
    command = shlex.split(line.split('resume with: ')[1])
    assert command[0] in (sys.executable, osp.relpath(sys.executable))
    assert command[1].endswith('run_experiments.py')
    monkeypatch.chdir(osp.dirname(osp.dirname(osp.abspath(__file__))))
    run_experiments.main(command[2:])
    out, _ = capfd.readouterr()
    assert 'Resuming from' in out or 'resumed' in out.lower()
    assert 'Data stream resumed at iteration 2' in out
    state = load_checkpoint_file(osp.join(work_dir, 'iter_4.pth'))
    assert state['state_dict']['_extra_state'] == {'iteration': 4}
    assert glob.glob(osp.join(work_dir, 'debug', '000004_0.png'))
    # readable terminal: no env/config/hook dumps, no paramwise lines, no
    # mmengine deprecation warnings; the table names split and network
    for noise in ('paramwise_options', 'System environment', 'Config:',
                  'Hooks will be executed', '"FileClient" will be deprecated'):
        assert noise not in out, noise
    assert 'per class results (DarkZurich night val, student):' in out
    # the log file keeps the config and the environment, not paramwise lines
    logs = glob.glob(osp.join(work_dir, '*', '*.log'))
    text = ''.join(open(p).read() for p in logs)
    assert 'Config:' in text and 'System environment' in text
    assert 'paramwise_options' not in text
    assert 'optimizer parameter groups:' in text


def test_test_py_takes_a_work_dir(interrupted_run, capfd, monkeypatch):
    from mmseg.evaluation import iou_metric
    _, work_dir = interrupted_run
    if not osp.isfile(osp.join(work_dir, 'iter_4.pth')):
        pytest.skip('needs the resumed run')
    tables = []
    monkeypatch.setattr(iou_metric, 'print_log',
                        lambda msg, **kw: tables.append(msg))
    results = run_test([work_dir, '--eval', 'mIoU'])
    out, _ = capfd.readouterr()
    assert f'of {osp.join(work_dir, "iter_4.pth")}' in out
    assert 'ETA' in out  # progress bar
    assert tables[0].startswith(
        'per class results (DarkZurich night val, student)')
    assert 0 <= results['mIoU'] <= 100
    # --format-only defaults under the work dir
    run_test([work_dir, '--test-set', '--format-only', '--eval-option',
              'to_label_id=False'])
    written = os.listdir(osp.join(work_dir, 'labelTrainIds'))
    assert len(written) == 2
    # --show-dir: image | ground truth | prediction, and the count
    show = osp.join(work_dir, 'show')
    run_test([work_dir, osp.join(work_dir, 'iter_2.pth'), '--show-dir', show])
    out, _ = capfd.readouterr()
    assert 'wrote 2 figures' in out and show in out
    assert '2 as image | ground truth | prediction' in out
    import cv2
    images = glob.glob(osp.join(show, '**', '*.png'), recursive=True)
    assert len(images) == 2
    name = osp.basename(images[0])
    original = glob.glob(osp.join(osp.dirname(work_dir), 'toy', 'dark_zurich',
                                  'rgb_anon', 'val', '**', name),
                         recursive=True)
    height, width = cv2.imread(original[0]).shape[:2]
    shown = cv2.imread(images[0])
    assert shown.shape[1] == 3 * width  # image | ground truth | prediction
    assert shown.shape[0] > height  # titles and legend


def test_resume_of_a_folder_without_dump_is_one_line(tmp_path):
    import run_experiments
    with pytest.raises(SystemExit, match=f'--resume: {tmp_path}: no config'):
        run_experiments.main(['--resume', str(tmp_path)])
