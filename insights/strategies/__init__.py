"""Engagement strategies: when, for whom and what to do, within caps, quiet hours, consent and a holdout.

See docs/journeys.md, "Engagement strategies".
"""
