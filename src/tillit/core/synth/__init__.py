"""Tillit core: synth."""
