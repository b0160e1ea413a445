"""EBDA: the entropy balancing loss on the mixed images."""
