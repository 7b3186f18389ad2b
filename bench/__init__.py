"""Benchmarks: scripts run one by one (see README.md here); not part of the package."""
