"""Tillit domain layer."""
