"""Tillit web layer."""
