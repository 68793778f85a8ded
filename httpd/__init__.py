"""The HTTP server both the backend and the HotROD services run: asyncio, a loop per port on a thread of its own.

A package of its own because the services must not import the backend (they
are the backend's clients), yet both need the same start, drain and stop.
"""
