"""Detectors: turn metric samples and log lines into anomaly `Signal`s. Pure: no I/O, no clock."""
