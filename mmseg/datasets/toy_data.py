"""Compatibility entry point of the synthetic day-to-night toy set; see :mod:`mmseg.datasets.toy`.

Re-exports the public API of the ``toy`` package so existing imports keep working.
"""
from .class_stats import save_class_stats as write_class_stats  # noqa: F401
from .toy.camera import Camera  # noqa: F401
from .toy.canvas import Canvas  # noqa: F401
from .toy.classes import (CLASS_NAMES, HEIGHT, IGNORE_INDEX, NUM_CLASSES,  # noqa: F401
                          TRAIN_ID_TO_LABEL_ID, WIDTH, train_ids_to_label_ids)
from .toy.layout import MARKER_FILE, SOURCE_CITIES, TARGET_SEQUENCES  # noqa: F401
from .toy.render_day import render_day  # noqa: F401
from .toy.render_night import render_night  # noqa: F401
from .toy.scene import paint_scene  # noqa: F401
from .toy.street import Street  # noqa: F401
from .toy.writer import (DEFAULT_COUNTS, FORMAT_VERSION, class_stats,  # noqa: F401
                         ensure_toy_dataset, make_toy_dataset)
