"""Interactions: the record of each finished conversation."""
