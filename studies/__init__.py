"""Experiments that call training as a function: the split study and the augmentation study."""
