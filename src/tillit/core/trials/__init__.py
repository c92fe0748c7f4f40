"""Tillit core: trials."""
