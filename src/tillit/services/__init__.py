"""Tillit services layer."""
