"""Quality assurance: scorecards, evaluations of interactions, disputes, calibration, sampling and
reports (docs/quality.md)."""
