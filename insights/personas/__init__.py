"""Personas: definitions as data (rules over customers' features), their assignment, and discovery by clustering."""
