"""EGLP / PIG: the night-focused network's pseudo-label fusion (FIS, DMS),
the day-night class similarity it is guided by, prompt mixing and alternate
masking, the rare class memory (RCM) with its object pasting, and the
NFNet/EMA teacher fusion at test time. The step is
:class:`mmseg.models.uda.eglp.EGLP`."""
