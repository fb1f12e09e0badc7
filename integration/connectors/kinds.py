"""Imports every connector kind so that each registers itself (``base.register_kind``)."""

# Each kind's package adds its import here as it is built:
from integration.connectors.flatfile import connector as flatfile  # noqa: F401
from integration.connectors.rest import client as rest  # noqa: F401
from integration.connectors.soap import client as soap  # noqa: F401
from integration.connectors.sql import client as sql  # noqa: F401
