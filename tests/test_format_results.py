"""Test-server PNGs and overlays."""
import os

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from mmseg.datasets.cityscapes_labels import PALETTE
from mmseg.evaluation.format_results import format_results, result_png_name
from mmseg.evaluation.visualize import overlay_segmentation, write_overlay

PRED = np.array([[0, 1, 13], [18, 10, 2]])


def results():
    return [dict(pred_sem_seg=torch.as_tensor(PRED),
                 img_metas=dict(
                     filename='data/acdc/rgb_anon/val/night/GOPR0606/'
                     'GOPR0606_frame_000116_rgb_anon.png')),
            dict(pred_sem_seg=PRED[::-1].copy(),
                 img_metas=dict(
                     filename='data/cityscapes/leftImg8bit/test/berlin/'
                     'berlin_000000_000019_leftImg8bit.png'))]


def test_one_png_per_image_named_after_it_with_train_ids(tmp_path):
    out = format_results(results(), str(tmp_path / 'preds'),
                         to_label_id=False)
    assert sorted(os.listdir(out)) == [
        'GOPR0606_frame_000116_rgb_anon.png',
        'berlin_000000_000019_leftImg8bit.png']
    png = Image.open(os.path.join(out, 'GOPR0606_frame_000116_rgb_anon.png'))
    assert png.mode == 'P'
    np.testing.assert_array_equal(np.array(png), PRED)
    assert png.getpalette()[13 * 3:14 * 3] == PALETTE[13]


def test_label_ids_for_the_cityscapes_server(tmp_path):
    out = format_results(results()[:1], str(tmp_path), to_label_id=True)
    png = Image.open(os.path.join(out, 'GOPR0606_frame_000116_rgb_anon.png'))
    np.testing.assert_array_equal(np.array(png), [[7, 8, 26], [33, 23, 11]])
    assert png.getpalette()[26 * 3:27 * 3] == [0, 0, 142]


def test_same_base_name_twice_is_refused(tmp_path):
    twice = results()[:1] * 2
    with pytest.raises(ValueError, match='would both be written'):
        format_results(twice, str(tmp_path))


def test_name_and_temp_folder():
    assert result_png_name('a/b/x.jpg') == 'x.png'
    out = format_results(results()[:1])
    assert os.listdir(out) == ['GOPR0606_frame_000116_rgb_anon.png']


def test_overlay_blends_palette_and_keeps_ignored_pixels(tmp_path):
    img = np.full((2, 3, 3), 100, np.uint8)
    seg = np.array([[0, 255, 13], [13, 13, 13]])
    out = overlay_segmentation(img, seg, opacity=0.5)
    road_bgr = PALETTE[0][::-1]
    np.testing.assert_array_equal(out[0, 0],
                                  [round((100 + c) / 2) for c in road_bgr])
    np.testing.assert_array_equal(out[0, 1], [100, 100, 100])
    path = write_overlay(img, torch.as_tensor(seg), str(tmp_path / 's/x.png'))
    assert cv2.imread(path).shape == (2, 3, 3)
