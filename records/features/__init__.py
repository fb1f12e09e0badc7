"""Customers' behavioural facts as of a moment, read set-wise for insights' models (issue 13)."""
