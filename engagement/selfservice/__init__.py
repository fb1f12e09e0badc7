"""Self-service: configurable flows, knowledge answers, look-ups; containment and escalation."""
