"""The System of Insight: KPIs, sentiment, compliance, journey analytics and the feedback loop."""
