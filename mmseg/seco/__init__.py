"""SeCo: offline pseudo-label post-processing (PSA with SAM, then SCC).

Run after a UDA training: dump confident teacher pseudo-labels of the target
train set, aggregate them into SAM masks (:mod:`mmseg.seco.psa`), correct
them per connected component with a small classifier
(:mod:`mmseg.seco.scc`), then fine-tune with the ``SeCoLabels`` refiner.
The command-line tools live in ``tools/seco``.
"""
