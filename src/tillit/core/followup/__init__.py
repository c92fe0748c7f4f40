"""Tillit core: followup."""
