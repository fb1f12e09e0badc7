"""Identification and verification (ID&V): who is this, and have they proved it?"""
