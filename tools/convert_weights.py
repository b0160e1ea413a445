"""Convert published MiT/SegFormer weights into this project's keys.

    python tools/convert_weights.py IN OUT.pth

IN (``.bin``/``.pth``/``.safetensors``; the format is detected):
- HuggingFace ``SegformerModel`` / ``SegformerForImageClassification``
  (``nvidia/mit-b0..b5``): OUT is MiT backbone weights for
  ``model.pretrained`` (the ImageNet classifier is left out);
- HuggingFace ``SegformerForSemanticSegmentation``
  (``nvidia/segformer-b5-finetuned-cityscapes-1024-1024``): OUT is a
  segmentor checkpoint for ``EncoderDecoder(MiT, SegFormerHead)``, and
  ``OUT.py`` beside it is its config (geometry from the tensors, head counts
  and class names from a ``config.json`` beside IN; Cityscapes models get the
  Cityscapes test data and SegFormer's 1024x1024 sliding-window test), so
  ``tools/test.py OUT.py OUT.pth`` runs it as it is;
- mmseg 1.x MiT / SegFormer (``[backbone.]layers.*``): OUT is MiT backbone
  weights (mmseg 1.x's SegFormer head is another network and is left out).

Prints the detected format, the number of tensors converted and the SHA-256
of IN and OUT; OUT is checked to load strictly into the model it is for.
A file of none of these formats is named with what was expected (exit 1).
"""
import argparse
import hashlib
import io
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmseg.utils.cli import add_debug_argument, run_cli  # noqa: E402
import torch  # noqa: E402


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def config_path(out_file: str) -> str:
    """``OUT.pth`` -> ``OUT.py``."""
    return osp.splitext(out_file)[0] + '.py'


def check_backbone(state: dict, geometry, out_file: str) -> str:
    """Build the MiT of ``geometry`` and check ``state`` fits it strictly;
    returns the backbone's config type."""
    from mmseg.models.weights import check_state_dict
    from mmseg.registry import MODELS
    cfg = geometry.backbone_cfg(1e-6)
    check_state_dict(MODELS.build(cfg), state, out_file)
    return cfg['type']


def check_segmentor(state: dict, config_file: str, out_file: str) -> None:
    """Build the model of ``config_file`` and check ``state`` fits it."""
    from mmseg.config import load_config
    from mmseg.models.weights import check_state_dict
    from mmseg.registry import MODELS
    cfg = load_config(config_file)
    check_state_dict(MODELS.build(cfg.model), state, out_file)


def segmentor_outputs(result, in_file: str, out_file: str) -> List[str]:
    """Write ``OUT.py`` for a converted HuggingFace segmentor; returns the
    lines to print."""
    from mmseg.models.converters import config_writer as cw
    from mmseg.models.converters.geometry import (class_names, mit_geometry,
                                                  read_hf_config)
    state = result.state_dict
    hf_config = read_hf_config(in_file)
    backbone = {k[len('backbone.'):]: v for k, v in state.items()
                if k.startswith('backbone.')}
    geometry = mit_geometry(backbone, hf_config)
    num_classes = state['decode_head.linear_pred.weight'].shape[0]
    embed_dim = state['decode_head.linear_pred.weight'].shape[1]
    names = class_names(hf_config)
    cityscapes = cw.is_cityscapes(num_classes, names)
    cw.add_unused_conv_seg(state, num_classes)
    cfg = cw.segmentor_config(geometry, num_classes, embed_dim, cityscapes)
    header = [f'SegFormer converted by tools/convert_weights.py from '
              f'{osp.basename(in_file)} ({result.name}).',
              f'Backbone {geometry.backbone_cfg(0)["type"]}, {num_classes} '
              'classes; LayerNorm eps 1e-5 as in HuggingFace\'s modules.']
    lines = []
    if not cityscapes:
        header.append(
            f'data.test holds only the test pipeline (the inference API and '
            f'demos name the classes "class 0".."class {num_classes - 1}"); '
            'for tools/test.py set data.test type/data_root/img_dir/ann_dir '
            f'to a dataset with these {num_classes} classes' +
            (f' ({", ".join(names[:5])}, ...)' if names else '') + '.')
        lines.append(f'note: {num_classes} classes, not Cityscapes: the '
                     'demos and the inference API run it as it is; for '
                     'tools/test.py set data.test (type, data_root, '
                     f'img_dir, ann_dir) in {config_path(out_file)}')
    if geometry.heads_assumed:
        lines.append('note: no config.json beside the input: attention '
                     f'heads {geometry.num_heads} assumed (MiT-B0..B5)')
    from mmseg.utils.checkpoint_io import atomic_write_bytes
    atomic_write_bytes(cw.config_text(cfg, header).encode(),
                       config_path(out_file))
    check_segmentor(state, config_path(out_file), out_file)
    return lines


def convert(in_file: str, out_file: str) -> dict:
    """Convert ``in_file`` to ``out_file`` (and ``OUT.py`` for a segmentor);
    returns what was printed as a dict (for tests)."""
    from mmseg.models.converters import (KNOWN_FORMATS, convert_state_dict,
                                         read_weights)
    from mmseg.models.converters.geometry import mit_geometry
    from mmseg.utils.checkpoint_io import (CheckpointLoadError,
                                           atomic_write_bytes)
    from mmseg.utils import register_all_modules
    register_all_modules()
    if osp.exists(out_file) and osp.samefile(in_file, out_file):
        raise CheckpointLoadError(f'{out_file} is the input file; choose '
                                  'another output name')
    source = read_weights(in_file)
    result = convert_state_dict(source, in_file)
    print(f'{in_file}: {KNOWN_FORMATS[result.name]} -> {result.kind}; '
          f'sha256 {sha256_of(in_file)}')
    if result.kind == 'segmentor':
        lines = segmentor_outputs(result, in_file, out_file)
        target = f'config {config_path(out_file)}'
    else:
        geometry = mit_geometry(result.state_dict)
        kind = check_backbone(result.state_dict, geometry, out_file)
        lines = [f'use: model.pretrained=\'{out_file}\' with backbone type '
                 f'{kind}']
        target = f'backbone {kind}'
    for note in result.notes:
        lines.append(f'note: {note}')
    buffer = io.BytesIO()
    torch.save({'state_dict': result.state_dict,
                'meta': {'converted_from': osp.basename(in_file),
                         'source_format': result.name}}, buffer)
    atomic_write_bytes(buffer.getvalue(), out_file)
    dropped = (f', left out {len(result.dropped)} '
               f'({", ".join(sorted(result.dropped)[:3])}'
               f'{", ..." if len(result.dropped) > 3 else ""})'
               if result.dropped else '')
    print(f'converted {result.converted} tensors into '
          f'{len(result.state_dict)}{dropped}; checked: loads strictly into '
          f'{target}')
    for line in lines:
        print(line)
    print(f'wrote {out_file}; sha256 {sha256_of(out_file)}')
    return dict(format=result.name, kind=result.kind,
                converted=result.converted)


def main(argv: Optional[List[str]] = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('in_file', metavar='IN')
    parser.add_argument('out_file', metavar='OUT.pth')
    add_debug_argument(parser)
    args = parser.parse_args(argv)
    from mmseg.utils.cli import ensure_output_dir
    ensure_output_dir(osp.dirname(osp.abspath(args.out_file)),
                      'OUT folder')
    return convert(args.in_file, args.out_file)


if __name__ == '__main__':
    sys.exit(run_cli(main))
