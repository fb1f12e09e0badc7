"""Surveys: CSAT, NPS and CES after a conversation, on its channel; the agents' anonymous eNPS pulse."""
