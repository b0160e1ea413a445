"""tools/test.py --show-dir says what it drew, names the images the data
set leaves out, and draws every figure of a run at one size."""
import glob
import os.path as osp
import shutil

import cv2

from api_fixtures import toy_config, training_checkpoint
from tools.test import main as run_test


def test_show_dir_figures_messages_and_one_size(tmp_path, capfd):
    root = str(tmp_path / 'toy')
    cfg = toy_config(str(tmp_path), 'toy_srconly_daformer_mitb0.py', root)
    ckpt = training_checkpoint(cfg, str(tmp_path / 'iter_4.pth'))
    test_dir = osp.join(root, 'dark_zurich', 'rgb_anon', 'test', 'night')
    first = sorted(glob.glob(osp.join(test_dir, '**', '*_rgb_anon.png'),
                             recursive=True))[0]
    seq = osp.dirname(first)
    # another suffix than the data set's: named as skipped
    shutil.copy(first, osp.join(seq, 'extra_frame.jpg'))
    # an image of another size: drawn at the run's size
    img = cv2.imread(first)
    cv2.imwrite(osp.join(seq, 'zz_small_rgb_anon.png'),
                cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 3)))
    show = str(tmp_path / 'show')
    run_test([cfg, ckpt, '--test-set', '--show-dir', show])
    out, _ = capfd.readouterr()
    assert 'skipped 1 image file(s)' in out and 'extra_frame.jpg' in out
    assert "not ending with img_suffix '_rgb_anon.png'" in out
    h, w = img.shape[:2]
    assert (f'wrote 3 figures to {show}: 3 as image | prediction '
            f'(no labels); images drawn at {w}x{h} px (1 resized to it)'
            in out)
    figures = [cv2.imread(p) for p in glob.glob(
        osp.join(show, '**', '*.png'), recursive=True)]
    assert len(figures) == 3
    assert {f.shape for f in figures} == {figures[0].shape}
    assert figures[0].shape[1] == 2 * w  # image | prediction
    # labelled split: image | ground truth | prediction
    labelled = str(tmp_path / 'show_val')
    run_test([cfg, ckpt, '--show-dir', labelled])
    out, _ = capfd.readouterr()
    assert f'2 as image | ground truth | prediction' in out
    figures = [cv2.imread(p) for p in glob.glob(
        osp.join(labelled, '**', '*.png'), recursive=True)]
    assert {f.shape[1] for f in figures} == {3 * w}
