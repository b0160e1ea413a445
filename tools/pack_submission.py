"""Pack test-set predictions into the zip an evaluation server takes.

    python tools/test.py CONFIG CHECKPOINT --test-set --format-only \\
        --eval-option imgfile_prefix=preds to_label_id=False confidence=True
    python tools/pack_submission.py preds --dataset darkzurich \\
        --test-list data/dark_zurich --out dark_zurich_test.zip

PRED_DIR holds one train-id PNG per test image, ``<image stem>.png`` (as
``tools/test.py --format-only ... to_label_id=False`` writes them), and for
Dark Zurich ``confidence/`` with the 16-bit confidence maps
(``confidence=True``). ROOT is the dataset folder: its test images
(``rgb_anon/test/night``, ``rgb_anon/<condition>/test``,
``leftImg8bit/test``) say which predictions the server needs.

The zip holds, for ``darkzurich``: ``labelTrainIds/``,
``labelTrainIds_invalid/`` and ``confidence/`` (the same file names in
each); ``acdc``: ``<condition>/test/<sequence>/<name>.png`` train ids;
``cityscapes``: ``<name>.png`` label ids. Every test image must have
exactly one prediction of its size; otherwise one line names what is
missing or extra and nothing is written.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.evaluation.submission import SERVERS  # noqa: E402
from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('pred_dir', metavar='PRED_DIR',
                        help='train-id prediction PNGs (tools/test.py '
                        '--format-only)')
    parser.add_argument('--dataset', required=True, choices=list(SERVERS),
                        help='the server to pack for')
    parser.add_argument('--test-list', '--test-root', dest='test_root',
                        required=True, metavar='ROOT',
                        help='dataset folder whose test images the server '
                        'scores, e.g. data/dark_zurich')
    parser.add_argument('--out', required=True, metavar='FILE.zip')
    parser.add_argument('--conditions', nargs='+',
                        help='ACDC: only these conditions (default: every '
                        'condition with test images), e.g. night')
    parser.add_argument('--invalid-below', type=float, metavar='P',
                        help='Dark Zurich: mark pixels with confidence < P '
                        'invalid (255) in labelTrainIds_invalid (default: '
                        'none)')
    parser.add_argument('--constant-confidence', action='store_true',
                        help='Dark Zurich without confidence maps: send '
                        'confidence 1.0 everywhere')
    add_debug_argument(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None):
    args = parse_args(argv)
    from mmseg.evaluation.submission import pack_submission
    report = pack_submission(args.pred_dir, args.dataset, args.test_root,
                             args.out, conditions=args.conditions,
                             invalid_below=args.invalid_below,
                             constant_confidence=args.constant_confidence)
    conf = {'network': ', network confidence',
            'constant': ', constant confidence 1.0',
            'none': ''}[report.confidence]
    print(f'wrote {report.out}: {report.files} PNGs for {report.images} '
          f'{SERVERS[args.dataset].title} test images{conf}')
    if report.official and report.images != report.official:
        print(f'note: the released test set has {report.official} images; '
              f'{args.test_root} holds {report.images}, so the server will '
              'miss predictions', file=sys.stderr)
    return report


if __name__ == '__main__':
    sys.exit(run_cli(main))
