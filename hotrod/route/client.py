"""How the frontend asks the route service for an ETA."""

from __future__ import annotations

import requests

from hotrod.httpclient import get_json
from hotrod.route.eta import Route


class RouteClient:
    def __init__(self, base_url: str, session: requests.Session) -> None:
        self._url = f"{base_url}/route"
        self._session = session

    def find_route(self, pickup: str, dropoff: str) -> Route:
        body = get_json(self._session, "route", self._url, {"pickup": pickup, "dropoff": dropoff})
        return Route(body["pickup"], body["dropoff"], float(body["eta_seconds"]))
