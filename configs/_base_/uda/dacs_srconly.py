# Source-only training with the same data stream as DACS (no teacher).
_base_ = ['dacs.py']
uda = dict(source_only=True)
