"""Tillit core: did."""
