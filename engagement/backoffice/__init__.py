"""Back-office work (cases and tasks routed to agents as work), out-of-hours answers per queue and channel."""
