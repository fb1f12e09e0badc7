"""Engagement metrics: engagement rate, retention and churn by monthly cohort, lifetime value (docs/journeys.md)."""
