"""Runtime adapter: the only place (with `aiops.sinks`) that touches Kafka, HTTP servers and sockets.

Nothing here holds correlation or detection logic; it wires the pure core to brokers, topics and endpoints.
"""
