"""Tillit core: audit."""
