"""Domain-adaptive (nighttime) semantic segmentation in the MMSegmentation/HRDA tradition."""

__version__ = '0.1.0'
