"""Imports every connector kind so that each registers itself (``base.register_kind``)."""

# Each kind's package adds its import here as it is built:
# from integration.connectors.rest import client as rest
