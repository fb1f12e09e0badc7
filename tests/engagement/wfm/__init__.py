"""Tests of workforce management (engagement/wfm)."""
