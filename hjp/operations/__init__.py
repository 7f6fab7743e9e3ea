"""Running hjp on many machines: health probes, Prometheus metrics, structured logs with a request id."""
