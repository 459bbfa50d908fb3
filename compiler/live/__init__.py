"""Looking at the customer's live system: doctor, report, gate and replay against a Prometheus-compatible API."""
