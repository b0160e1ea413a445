"""Converters of published MiT/SegFormer weights into this project's keys.

``read_weights`` reads a ``.pth``/``.bin``/``.safetensors`` file,
``detect_format`` names its layout, and ``convert_state_dict`` maps it onto
our :class:`MixVisionTransformer` / ``SegFormerHead`` keys. The command line
is ``tools/convert_weights.py``.
"""
from mmseg.models.converters.formats import (KNOWN_FORMATS, WeightFormat,
                                             convert_state_dict,
                                             detect_format)
from mmseg.models.converters.reading import read_weights

__all__ = ['KNOWN_FORMATS', 'WeightFormat', 'convert_state_dict',
           'detect_format', 'read_weights']
