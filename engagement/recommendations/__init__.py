"""Recommended actions: the desk's Next best action card, offered per customer and decided by agents."""
