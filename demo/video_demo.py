"""Segment a video with a trained model: the frames blended with the class
colours, written as a new video.

    python demo/video_demo.py CONFIG CHECKPOINT VIDEO --out OUT.mp4

The output has the input's frame rate, frame count and frame size
(--side-by-side: the frame left, its overlay right, so twice the width).
--every N segments every N-th frame and blends the other frames with the
last prediction (N times faster; objects that move lag behind). Frames are
read and written with OpenCV: .mp4 is written with the 'mp4v' codec (the one
the PyPI OpenCV wheels can encode; no H.264), .avi with 'MJPG'.

An unreadable video is a one-line error (exit 1). Ctrl-C stops after the
current frame and leaves a playable OUT holding the frames done (exit 130).
"""
import argparse
import math
import os
import os.path as osp
import sys
from typing import Any, List, Optional, Tuple

# FFmpeg's own diagnostics (e.g. 'moov atom not found') would come before
# the one-line error; read before OpenCV is imported
os.environ.setdefault('OPENCV_FFMPEG_LOGLEVEL', '-8')
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.config import add_cfg_options_argument  # noqa: E402
from mmseg.utils.cli import run_cli  # noqa: E402

TEST_MODELS = ('student', 'teacher', 'nfnet', 'nfnet_teacher', 'fusion')
CODECS = {'.mp4': 'mp4v', '.avi': 'MJPG'}
DEFAULT_FPS = 25.0
EXIT_INTERRUPTED = 130


class VideoReadError(IOError):
    """A video file cannot be opened or decoded."""


class VideoWriteError(IOError):
    """The output video cannot be written."""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file (e.g. a work dir\'s dump)')
    parser.add_argument('checkpoint', help='training or published checkpoint')
    parser.add_argument('video', help='input video (anything OpenCV reads)')
    parser.add_argument('--out', required=True,
                        help='output video: .mp4 (mp4v) or .avi (MJPG)')
    parser.add_argument('--every', type=int, default=1, metavar='N',
                        help='segment every N-th frame; the frames between '
                        'reuse the last prediction')
    parser.add_argument('--opacity', type=float, default=0.5,
                        help='weight of the class colours (0..1)')
    parser.add_argument('--side-by-side', action='store_true',
                        help='frame | overlay (output twice as wide)')
    parser.add_argument('--device', default=None,
                        help='cpu, cuda, cuda:1 ... (default: cuda if any)')
    parser.add_argument('--test-model', choices=TEST_MODELS, default=None,
                        help="network of a UDA checkpoint (default: the "
                        "config's uda.test_model, else the student)")
    parser.add_argument('--amp', action='store_true',
                        help='bf16 autocast (CUDA, or CPUs with bf16)')
    parser.add_argument('--trust-checkpoint', action='store_true')
    add_cfg_options_argument(parser)
    args = parser.parse_args(argv)
    if args.every < 1:
        parser.error(f'--every {args.every}: give a positive number')
    if not 0 <= args.opacity <= 1:
        parser.error(f'--opacity {args.opacity}: give a value in [0, 1]')
    suffix = osp.splitext(args.out)[1].lower()
    if suffix not in CODECS:
        parser.error(f'--out {args.out}: give a .mp4 or .avi file')
    return args


def open_video(path: str) -> Tuple[Any, float, int, Tuple[int, int]]:
    """``(capture, fps, frame count or 0 if unknown, (width, height))``.

    Raises:
        FileNotFoundError: no such file.
        VideoReadError: OpenCV cannot open it or decode its first frame.
    """
    import cv2
    if not osp.isfile(path):
        raise FileNotFoundError(f'video not found: {path}')
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise VideoReadError(f'cannot open video {path} (not a video, or a '
                             'codec OpenCV lacks)')
    width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
    height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
    if width <= 0 or height <= 0:
        capture.release()
        raise VideoReadError(f'cannot decode video {path}: no frame size')
    fps = capture.get(cv2.CAP_PROP_FPS)
    if not fps or not math.isfinite(fps) or fps <= 0:
        fps = 0.0
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return capture, fps, max(count, 0), (width, height)


def open_writer(path: str, fps: float, size: Tuple[int, int]) -> Any:
    """An OpenCV writer for ``path`` (codec by suffix).

    Raises:
        VideoWriteError: naming the file and the codec.
    """
    import cv2
    codec = CODECS[osp.splitext(path)[1].lower()]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*codec), fps, size)
    if not writer.isOpened():
        raise VideoWriteError(f'cannot write video {path} with codec '
                              f'{codec!r} at {size[0]}x{size[1]}')
    return writer


def predict(model: Any, frame: Any, amp: bool) -> Any:
    """Class map ``[H, W]`` (numpy) of one BGR frame."""
    from mmseg.apis import inference_model
    return inference_model(model, frame, amp=amp).pred_sem_seg.cpu().numpy()


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    capture, fps, count, (width, height) = open_video(args.video)
    if osp.realpath(args.out) == osp.realpath(args.video):
        raise VideoWriteError(f'--out {args.out} is the input video')
    ok, frame = capture.read()
    if not ok:
        raise VideoReadError(f'cannot decode a frame of {args.video}')
    import numpy as np
    import torch

    from mmseg.apis import init_model
    from mmseg.evaluation.visualize import overlay_segmentation
    from mmseg.utils.progress import RateProgress
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    model = init_model(args.config, args.checkpoint, device,
                       cfg_options=args.cfg_options,
                       test_model=args.test_model,
                       trust_checkpoint=args.trust_checkpoint)
    palette = model.dataset_meta['palette']
    if not fps:
        print(f'{args.video} gives no frame rate; writing {DEFAULT_FPS:g} '
              'fps')
    fps = fps or DEFAULT_FPS
    out_size = (2 * width if args.side_by_side else width, height)
    writer = open_writer(args.out, fps, out_size)
    print(f'segmenting {args.video} ({width}x{height}, {fps:g} fps'
          + (f', {count} frames' if count else '') + f') with the '
          f'{model.deployed_network} of {args.checkpoint} on {device}; '
          + (f'every {args.every}th frame; ' if args.every > 1 else '')
          + f'writing {args.out} at {out_size[0]}x{out_size[1]}'
          + (' (frame | overlay)' if args.side_by_side else ''))
    progress = RateProgress(count or None, 'frames')
    written, pred = 0, None
    try:
        while ok:
            if written % args.every == 0 or pred is None:
                pred = predict(model, frame, args.amp)
            shown = overlay_segmentation(frame, pred, palette, args.opacity)
            if args.side_by_side:
                shown = np.hstack([frame, shown])
            writer.write(shown)
            written += 1
            progress.update()
            ok, frame = capture.read()
    except KeyboardInterrupt:
        progress.close()
        writer.release()
        capture.release()
        print(f'interrupted: {args.out} holds the {written} frames done '
              f'(playable, {fps:g} fps)')
        raise SystemExit(EXIT_INTERRUPTED)
    progress.close()
    writer.release()
    capture.release()
    if count and written < count:
        print(f'{args.video}: decoding stopped after {written} of the '
              f'{count} frames its header announces')
    print(f'wrote {written} frames to {args.out} ({out_size[0]}x'
          f'{out_size[1]}, {fps:g} fps; {progress.rate:.2f} frames/s)')


if __name__ == '__main__':
    sys.exit(run_cli(main))
