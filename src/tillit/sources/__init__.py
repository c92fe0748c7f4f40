"""Tillit sources layer."""
