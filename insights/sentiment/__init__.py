"""Sentiment of customer messages, interactions and customers (VADER, English only): docs/sentiment.md."""
