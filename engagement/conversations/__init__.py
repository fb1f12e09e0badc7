"""Live conversations on every channel: the one funnel every adapter feeds."""
