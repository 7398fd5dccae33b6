"""Reusable test servers and builders (local HTTP receiver, incident factory) for the aiops test suite."""
