"""Tillit web/api layer."""
