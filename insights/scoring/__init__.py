"""Churn risk and propensity: models trained on history, evaluated on a later window, written back (docs/models.md)."""
