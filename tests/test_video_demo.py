"""demo/video_demo.py: a 20-frame round trip keeps frame count, fps and
size; an unreadable video is one line; Ctrl-C leaves a playable file."""
import os.path as osp
import sys

import cv2
import numpy as np
import pytest

from api_fixtures import toy_config, training_checkpoint
from mmseg.utils.cli import run_cli

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                            'demo'))
import video_demo  # noqa: E402


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('video'))
    cfg = toy_config(tmp, 'toy_srconly_daformer_mitb0.py',
                     osp.join(tmp, 'toy'))
    return cfg, training_checkpoint(cfg, osp.join(tmp, 'iter_4.pth'))


def _write_video(path, frames=20, size=(64, 48), fps=12.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps,
                             size)
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 256, (size[1], size[0], 3), np.uint8))
    writer.release()
    return str(path)


def _probe(path):
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    info = (frames, capture.get(cv2.CAP_PROP_FPS),
            int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    capture.release()
    return info


def _demo(run, *args):
    return run_cli(video_demo.main, [*run, *map(str, args)],
                   prog='video_demo.py')


@pytest.mark.parametrize('extra, width', [((), 64),
                                          (('--side-by-side', '--every',
                                            '3'), 128)])
def test_round_trip_keeps_frames_fps_and_size(tmp_path, run, capfd, extra,
                                              width):
    video = _write_video(tmp_path / 'in.mp4')
    assert _probe(video) == (20, 12.0, 64, 48)
    out = tmp_path / 'out.mp4'
    assert _demo(run, video, '--out', out, *extra) == 0
    assert _probe(out) == (20, 12.0, width, 48)
    stdout = capfd.readouterr()[0]
    assert f'wrote 20 frames to {out} ({width}x48, 12 fps' in stdout
    assert 'frames/s' in stdout and 'ETA' in stdout


def test_every_n_predicts_every_nth_frame(tmp_path, run, monkeypatch):
    calls = []
    real = video_demo.predict
    monkeypatch.setattr(video_demo, 'predict',
                        lambda *a: calls.append(1) or real(*a))
    video = _write_video(tmp_path / 'in.mp4', frames=7)
    assert _demo(run, video, '--out', tmp_path / 'o.avi', '--every', '3') == 0
    assert len(calls) == 3  # frames 0, 3, 6
    assert _probe(tmp_path / 'o.avi')[0] == 7


def test_ctrl_c_leaves_a_playable_file_of_the_frames_done(
        tmp_path, run, capfd, monkeypatch):
    real = video_demo.predict
    calls = []

    def interrupt_at_sixth(*args):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt
        return real(*args)

    monkeypatch.setattr(video_demo, 'predict', interrupt_at_sixth)
    video = _write_video(tmp_path / 'in.mp4')
    out = tmp_path / 'out.mp4'
    with pytest.raises(SystemExit) as exit_info:
        _demo(run, video, '--out', out)
    assert exit_info.value.code == 130
    assert f'interrupted: {out} holds the 5 frames done (playable' in \
        capfd.readouterr()[0]
    assert _probe(out) == (5, 12.0, 64, 48)


def test_unreadable_video_is_one_line(tmp_path, run):
    import subprocess
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'not a video at all')
    script = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                      'demo', 'video_demo.py')
    for video, reason in ((bad, 'cannot open video'),
                          (tmp_path / 'none.mp4', 'video not found')):
        proc = subprocess.run(
            [sys.executable, script, *run, str(video), '--out',
             str(tmp_path / 'o.mp4')], capture_output=True, text=True)
        assert proc.returncode == 1
        assert proc.stderr.splitlines() == [
            f'video_demo.py: error: {reason}' + proc.stderr.split(reason)[1]
            .rstrip('\n')]
        assert str(video) in proc.stderr
    assert not (tmp_path / 'o.mp4').exists()
