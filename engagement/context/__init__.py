"""The context store: hot key/values per customer and conversation in Redis, durable and live."""
