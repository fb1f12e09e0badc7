"""The integration and aggregation layer: legacy connectors, sync jobs, aggregation API, webhooks."""
