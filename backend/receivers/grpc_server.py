"""Starting a gRPC receiver's server: the same bounds and bind rules for every gRPC protocol."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import grpc


def serve_grpc(
    handler: grpc.GenericRpcHandler, host: str, port: int, max_message_bytes: int, workers: int, label: str
) -> tuple[grpc.Server, int]:
    """A started server for ``handler`` and the port it bound; ``OSError`` naming ``label`` when it cannot bind."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers, thread_name_prefix=label.lower().replace("/", "-")),
        handlers=[handler],
        options=[
            ("grpc.max_receive_message_length", max_message_bytes),
            ("grpc.so_reuseport", 0),  # a port in use must fail, not be shared silently
        ],
    )
    shown = f"[{host}]" if ":" in host else host
    try:
        bound = server.add_insecure_port(f"{shown}:{port}")
    except RuntimeError as exc:
        raise OSError(f"cannot listen on {shown}:{port} for {label}: {exc}") from exc
    if bound == 0:
        raise OSError(f"cannot listen on {shown}:{port} for {label} (address in use?)")
    server.start()
    return server, bound
