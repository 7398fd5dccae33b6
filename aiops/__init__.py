"""aiops: streaming AIOps event correlation.

The package is split into a pure core (models, detectors, correlation, priority, alert building: no I/O,
no clock, no global randomness) and a thin runtime adapter (`aiops.runtime`) plus sinks (`aiops.sinks`)
that own every Kafka and HTTP dependency.
"""

__version__ = "0.1.0"
