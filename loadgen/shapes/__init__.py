"""Load shapes: how the number of users moves over a run.

``curves`` holds the shapes as plain functions of time, free of Locust so they can be read and
tested without Locust patching the process; ``locust_shape`` is the Locust class that picks one.
"""
