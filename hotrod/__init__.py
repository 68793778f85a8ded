"""HotROD in Python: the ride-ordering demo with four traced services."""
