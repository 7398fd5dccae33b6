"""Multivariate anomalies per entity: metric vectors per time step (`model`) scored by an IsolationForest
with episodes and snapshots (`detector`). Imports no other detector room."""
