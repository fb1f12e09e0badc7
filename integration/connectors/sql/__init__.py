"""SQL database connectors (SQLAlchemy): any database with a SQLAlchemy dialect."""
