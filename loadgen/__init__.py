"""Load generation and storage benchmarks, built on Locust."""
