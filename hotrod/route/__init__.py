"""The route service: an ETA between two points, ~50 ms of work each, with per-customer and per-session metrics."""
