"""Tillit core: survey."""
