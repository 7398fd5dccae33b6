"""Incident sinks: deliver `Incident` versions to receivers (webhooks, in-memory recorders) with retry.

Sinks classify failures as retryable (`DeliveryError`) or permanent (`DeliveryRejectedError`); the retry
policy lives in `aiops.sinks.retry`, not in the sinks themselves.
"""
