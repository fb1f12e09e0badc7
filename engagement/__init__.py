"""The System of Engagement: funnel, ID&V, self-service, routing, WFM, context store, agent desktop."""
