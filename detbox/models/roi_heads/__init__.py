"""roi_heads."""
