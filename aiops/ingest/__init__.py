"""HTTP ingest translators: payloads of the formats monitoring tools already send, turned into events.

Pure core: each translator takes a decoded JSON body, the integration's settings and the receive time (passed
in, never read from a clock) and returns events of the contract (`aiops.events`) or raises
`PayloadRejectedError` with a precise reason. The HTTP front that serves them, authenticates, rate-limits and
publishes to the events topic lives in `aiops.runtime.ingest_http`; nothing here does I/O.
"""
