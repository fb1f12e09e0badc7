"""How CEA runs on one machine: the embedded PostgreSQL and Redis, and `make run`."""
