"""Tillit cli layer."""
