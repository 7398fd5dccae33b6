"""Correlation: group signals into incidents, rank root causes. Pure, driven by event time."""
