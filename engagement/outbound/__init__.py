"""Proactive outbound: conversations CEA starts with a customer (consent-checked), and callbacks routed to agents."""
