"""Flat files: CSV and fixed-width mainframe extracts from a drop folder (``connector.py``, ``layout.py``)."""
