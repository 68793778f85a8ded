"""How the frontend asks the driver service for the nearest drivers."""

from __future__ import annotations

import requests

from hotrod.driver.fleet import Driver
from hotrod.httpclient import get_json


class DriverClient:
    def __init__(self, base_url: str, session: requests.Session) -> None:
        self._url = f"{base_url}/drivers"
        self._session = session

    def find_nearest(self, location: str) -> list[Driver]:
        body = get_json(self._session, "driver", self._url, {"location": location})
        return [Driver(d["driver_id"], d["location"]) for d in body["drivers"]]
