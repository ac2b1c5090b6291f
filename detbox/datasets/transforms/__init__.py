"""Pipeline transforms with MMDetection v2 names; importing registers them."""
