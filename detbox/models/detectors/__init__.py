"""Detectors: they only compose backbone, neck and heads."""
