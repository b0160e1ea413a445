"""SeCo, second stage: offline SeCo labels (written by ``tools/seco`` with
:mod:`mmseg.seco`) override the online pseudo-labels."""
