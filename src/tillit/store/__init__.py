"""Tillit store layer."""
