"""Adaptive sampling after Jaeger's: count root spans, compute per-operation probabilities, serve them."""
