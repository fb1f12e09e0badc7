"""Automatic compliance checks of transcripts: phrases a queue requires or forbids (docs/compliance.md)."""
