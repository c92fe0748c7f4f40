"""Tillit core: meta."""
