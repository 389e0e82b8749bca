"""Performance checks on real endpoints: a real Prometheus server for a session (prometheus.py),
its HTTP API (promapi.py), SLOs as data (slos.py), the error-budget arithmetic (burn.py), their
evaluation (evaluate.py), the report (report.py) and `polysdk slo` (slo_cli.py)."""
