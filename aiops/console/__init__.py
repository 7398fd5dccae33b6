"""The on-call console's pure parts: HTML pages, SVG charts and the service graph rendered from the incident
store's models, the console's form parsing and its signed session cookies. No I/O: `aiops.runtime.console_http`
serves them on the operator API's listener."""
