"""demo/image_demo.py: overlays of files, folders and globs; corrupt files
skipped by name; collisions and in-place writes refused up front."""
import os
import os.path as osp
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from api_fixtures import toy_config, training_checkpoint
from mmseg.utils.cli import run_cli

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                            'demo'))
from image_demo import main as demo_main  # noqa: E402


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp('demo'))
    cfg = toy_config(tmp, 'toy_srconly_daformer_mitb0.py',
                     osp.join(tmp, 'toy'))
    return cfg, training_checkpoint(cfg, osp.join(tmp, 'iter_4.pth'))


def _images(folder, names, rng=np.random.default_rng(0)):
    paths = []
    for name, (h, w) in names.items():
        path = osp.join(folder, name)
        os.makedirs(osp.dirname(path), exist_ok=True)
        cv2.imwrite(path, rng.integers(0, 256, (h, w, 3), np.uint8))
        paths.append(path)
    return paths


def _demo(run, *args):
    return run_cli(demo_main, [*run, *map(str, args)], prog='image_demo.py')


def test_folder_with_a_corrupt_file(tmp_path, run, capfd):
    src = tmp_path / 'night'
    _images(str(src), {'a.png': (40, 60), 'sub/b.jpg': (25, 50),
                       'sub/c.png': (170, 300)})
    (src / 'sub' / 'broken.png').write_bytes(b'\x89PNG not really')
    (src / 'notes.txt').write_text('not an image: ignored by extension')
    out = tmp_path / 'out'
    status = _demo(run, src, '--out-dir', out, '--save-label')
    stdout, stderr = capfd.readouterr()
    assert status == 1
    assert 'skipped: cannot decode image file' in stdout
    assert str(src / 'sub' / 'broken.png') in stdout
    assert stderr.strip().endswith(
        f'1 of 4 images could not be decoded and were skipped: '
        f'{src / "sub" / "broken.png"}')
    assert f'wrote 6 files (3 overlays and 3 label maps *_trainIds.png) ' \
           f'to {out}' in stdout
    assert 'images/s' in stdout and 'ETA' in stdout
    written = sorted(str(p.relative_to(out)) for p in out.rglob('*.png'))
    assert written == ['a.png', 'a_trainIds.png', 'sub/b.png',
                       'sub/b_trainIds.png', 'sub/c.png',
                       'sub/c_trainIds.png']
    # the overlay keeps the image's size, with the legend below
    overlay = cv2.imread(str(out / 'sub' / 'c.png'))
    assert overlay.shape[1] == 300 and overlay.shape[0] > 170
    label = np.array(Image.open(out / 'sub' / 'c_trainIds.png'))
    assert label.shape == (170, 300) and label.max() < 19


def test_file_and_glob_inputs(tmp_path, run, capfd):
    paths = _images(str(tmp_path / 'in'), {'x/one.png': (30, 30),
                                          'y/two.jpg': (20, 40)})
    out = tmp_path / 'out'
    assert _demo(run, paths[0], str(tmp_path / 'in' / '**' / '*.jpg'),
                 '--out-dir', out, '--opacity', '0.8') == 0
    assert sorted(str(p.relative_to(out)) for p in out.rglob('*.png')) == [
        'one.png', 'y/two.png']
    assert 'wrote 2 files (2 overlays) to' in capfd.readouterr()[0]


def test_two_inputs_for_one_output_are_refused_before_writing(
        tmp_path, run, capfd):
    _images(str(tmp_path), {'a/x.png': (8, 8), 'b/x.jpg': (8, 8)})
    out = tmp_path / 'out'
    status = _demo(run, tmp_path / 'a', tmp_path / 'b', '--out-dir', out)
    err = capfd.readouterr()[1]
    assert status == 1
    assert 'a/x.png and ' in err and 'b/x.jpg would both be written to' in err
    assert not out.exists()


def test_out_dir_inside_an_input_folder_is_refused(tmp_path, run, capfd):
    _images(str(tmp_path / 'in'), {'x.png': (8, 8)})
    for out in (tmp_path / 'in', tmp_path / 'in' / 'overlays'):
        assert _demo(run, tmp_path / 'in', '--out-dir', out) == 1
        assert 'pass --allow-in-place' in capfd.readouterr()[1]
    assert not (tmp_path / 'in' / 'overlays').exists()
    # the folder of a file input is refused too: the overlay would replace
    # the image of the same name
    assert _demo(run, tmp_path / 'in' / 'x.png', '--out-dir',
                 tmp_path / 'in') == 1
    assert _demo(run, tmp_path / 'in', '--out-dir', tmp_path / 'in' / 'o',
                 '--allow-in-place') == 0
    assert (tmp_path / 'in' / 'o' / 'x.png').is_file()
    # even when allowed, an output never replaces an input
    assert _demo(run, tmp_path / 'in' / 'x.png', '--out-dir',
                 tmp_path / 'in', '--allow-in-place') == 1
    assert 'would replace the input image' in capfd.readouterr()[1]


def test_missing_input_is_one_line(tmp_path, run, capfd):
    assert _demo(run, tmp_path / 'nope', '--out-dir', tmp_path / 'o') == 1
    err = capfd.readouterr()[1].strip()
    assert err == f'image_demo.py: error: input not found: {tmp_path}/nope'


def test_training_ends_with_the_demo_command_for_its_model(tmp_path, capfd):
    """The last lines of a training run: commands with the run's config dump
    and checkpoint; the image demo command runs as printed."""
    import shlex

    from e2e_config import write_tiny_config
    from tools.train import main as train_main
    cfg = write_tiny_config(str(tmp_path), 'toy_srconly_daformer_mitb0.py',
                            str(tmp_path / 'toy'), iters=1, ckpt_interval=1)
    work_dir = str(tmp_path / 'run')
    train_main([cfg, '--work-dir', work_dir, '--no-validate'])
    lines = capfd.readouterr()[0].splitlines()
    start = lines.index('next steps with this model:')
    steps = lines[start:]
    demo = next(line for line in steps if 'your images:' in line)
    argv = shlex.split(demo.split('your images:')[1])
    assert osp.abspath(argv[0]) == osp.abspath(sys.executable)
    assert argv[1].endswith('demo/image_demo.py')
    assert argv[2] == osp.join(work_dir, 'tiny_toy_srconly_daformer_mitb0.py')
    assert argv[3] == osp.join(work_dir, 'iter_1.pth')
    assert argv[4].endswith(osp.join('rgb_anon', 'test', 'night'))
    assert run_cli(demo_main, argv[2:]) == 0
    assert len(list((tmp_path / 'run' / 'demo').rglob('*.png'))) == 2
    assert any('tools/test.py' in line and '--eval mIoU' in line
               for line in steps)
    assert any('demo/video_demo.py' in line for line in steps)
