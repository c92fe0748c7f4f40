"""Tillit web/pages layer."""
