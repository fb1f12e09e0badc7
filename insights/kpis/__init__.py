"""Contact-centre KPIs: their definitions, the rollups they are computed from, and their series."""
