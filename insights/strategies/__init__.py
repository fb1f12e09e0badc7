"""Engagement strategies: when, for whom and what to do, with caps, quiet hours, consent and a holdout (docs/journeys.md)."""
