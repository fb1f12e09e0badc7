"""Service requests (cases): the status state machine, SLA policies and breaches, notes."""
