"""dense_heads."""
