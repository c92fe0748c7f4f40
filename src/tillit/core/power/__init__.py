"""Tillit core: power."""
