"""Historical report pages: KPIs by interval and grouping with a chart and its table twin, exports,
drill-down to the contacts behind a figure, agents' state timelines and the agent's desk panel."""
