"""``/admin/faults``: read and change the fix flags and fault knobs while the demo runs.

Only loopback clients, or clients presenting ``Authorization: Bearer $HOTROD_ADMIN_TOKEN``, may
use it: breaking a shared demo must not be one anonymous request away. On the frontend the
endpoint fans a change out to the other services (``peers``), so one call reconfigures the
whole deployment; ``?local=1`` keeps a change to the service it was sent to.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from typing import Any

import requests
from flask import Blueprint, Response, abort, jsonify, request

from hotrod.knobs import KnobError, Knobs
from hotrod.settings import ADMIN_TOKEN_ENV

FANOUT_TIMEOUT_S = 5.0


def _is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def is_allowed(remote_addr: str | None, authorization: str | None, token: str | None) -> bool:
    """Loopback clients always; others only with the configured bearer token."""
    if _is_loopback(remote_addr):
        return True
    if not token or not authorization or not authorization.startswith("Bearer "):
        return False
    return hmac.compare_digest(authorization.removeprefix("Bearer ").encode(), token.encode())


def _auth_header() -> dict[str, str]:
    token = os.environ.get(ADMIN_TOKEN_ENV)
    return {"Authorization": f"Bearer {token}"} if token else {}


def _fan_out(method: str, peers: dict[str, str], body: Any) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, base in peers.items():
        try:
            reply = requests.request(
                method,
                f"{base}/admin/faults",
                params={"local": "1"},
                json=body,
                headers=_auth_header(),
                timeout=FANOUT_TIMEOUT_S,
            )
            results[name] = reply.json() if reply.ok else {"error": f"HTTP {reply.status_code}: {reply.text[:200]}"}
        except requests.RequestException as exc:
            results[name] = {"error": f"unreachable: {exc}"}
    return results


def admin_blueprint(knobs: Knobs, peers: dict[str, str]) -> Blueprint:
    blueprint = Blueprint("admin", __name__)

    @blueprint.before_request
    def guard() -> None:
        token = os.environ.get(ADMIN_TOKEN_ENV)
        if not is_allowed(request.remote_addr, request.headers.get("Authorization"), token):
            abort(403, f"admin endpoints accept loopback clients or 'Authorization: Bearer ${ADMIN_TOKEN_ENV}'")

    @blueprint.get("/admin/faults")
    def read() -> Response:
        state: dict[str, Any] = knobs.as_dict()
        if peers and request.args.get("local") != "1":
            state = {**state, "services": _fan_out("GET", peers, None)}
        return jsonify(state)

    @blueprint.put("/admin/faults")
    def change() -> Response:
        body = request.get_json(silent=True)
        if body is None:
            abort(400, 'send a JSON object, e.g. {"db_conn_mutex_disabled": true}')
        try:
            state: dict[str, Any] = knobs.update(body)
        except KnobError as exc:
            abort(400, str(exc))
        if peers and request.args.get("local") != "1":
            state = {**state, "services": _fan_out("PUT", peers, body)}
        return jsonify(state)

    return blueprint
