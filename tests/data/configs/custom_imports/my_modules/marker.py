"""A user module imported by a config through custom_imports."""
IMPORTED = True
