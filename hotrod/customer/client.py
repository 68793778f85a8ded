"""How the frontend asks the customer service for a customer."""

from __future__ import annotations

import requests

from hotrod.customer.database import Customer
from hotrod.httpclient import get_json


class CustomerClient:
    def __init__(self, base_url: str, session: requests.Session) -> None:
        self._url = f"{base_url}/customer"
        self._session = session

    def get(self, customer_id: int) -> Customer:
        body = get_json(self._session, "customer", self._url, {"customer": customer_id})
        return Customer(int(body["id"]), body["name"], body["location"])
