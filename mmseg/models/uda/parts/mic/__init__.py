"""MIC (Hoyer et al., CVPR 2023): block masks of the target image and the
masked image consistency loss against the EMA teacher's pseudo-labels.
Config: ``uda.extra_losses=[dict(type='MIC', ...)]``."""
