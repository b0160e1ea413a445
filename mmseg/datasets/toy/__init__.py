"""A deterministic synthetic day-to-night street-scene set in the real on-disk layouts.

``writer.make_toy_dataset(out_dir, seed)`` paints procedural street scenes (perspective road,
sidewalks, facades with windows, vegetation, poles with signs and lights, people, riders and
vehicles) with the 19 Cityscapes classes, renders them in daylight (labelled source, Cityscapes
layout) or with a nighttime camera model (unlabelled target plus labelled val, Dark Zurich layout,
and a few labelled night prompts), and writes the rare-class statistics files of the Cityscapes
converter. The same seed gives byte-identical files. ``writer.ensure_toy_dataset`` generates the
set once per folder.

Modules: ``classes`` (label space), ``palette`` (material colours), ``camera`` (projection and
shape helpers), ``canvas`` (label and appearance layers), ``street`` (road, sidewalks, facades),
``furniture``, ``people``, ``vehicles`` (object painters), ``placement`` (where objects go),
``scene`` (one full scene), ``texture``, ``render_day``, ``render_night`` (images), ``layout``
(file names), ``splits`` (per-image seeding and class coverage) and ``writer`` (the files).

This package has no import-time side effects.
"""
