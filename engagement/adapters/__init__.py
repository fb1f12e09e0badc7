"""Channel adapters: each turns its native payload into conversations and messages."""
