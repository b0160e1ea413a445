"""DSRNSS: grouped ClassMix, the long-tailed memory bank of rare source
objects and the feature prototype alignment (FPA) loss."""
