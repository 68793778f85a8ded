"""A real Redis Cluster for tests: 3 masters and 3 replicas of the machine's ``redis-server`` in a temp folder.

Cluster nodes cannot listen on port 0 (each announces its port and the bus
port, port + 10000, to the others), so the ports are picked by binding the
OS to a free one and checking that port + 10000 is free too, all held open
until the six are chosen.  ``cluster-node-timeout`` is 1 s, so a replica
takes over a killed master within a few seconds.  ``heal()`` restarts any
killed node (it rejoins as a replica of whoever took its slots) and waits
until every master has a replica again, so one test's failover leaves the
next test a whole cluster.
"""

from __future__ import annotations

import contextlib
import functools
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import redis
from redis.cluster import ClusterNode, RedisCluster

from tests.support import wait_for

NODES = 6
REDIS_SERVER = shutil.which("redis-server") or "redis-server"
REDIS_CLI = shutil.which("redis-cli") or "redis-cli"


def free_cluster_ports(count: int) -> list[int]:
    """``count`` ports free on 127.0.0.1 whose bus ports (port + 10000) are free as well."""
    held: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
            port = sock.getsockname()[1]
            if port + 10000 > 65535:
                continue
            bus = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                bus.bind(("127.0.0.1", port + 10000))
            except OSError:
                bus.close()
                continue
            held.append(bus)
            ports.append(port)
    finally:
        for sock in held:
            sock.close()
    return ports


class LocalCluster:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = free_cluster_ports(NODES)
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in self.ports[:3])

    def start(self) -> None:
        for port in self.ports:
            self._start_node(port)
        for port in self.ports:
            wait_for(functools.partial(self._answers, port), timeout=10, what=f"redis-server on {port}")
        subprocess.run(
            [REDIS_CLI, "--cluster", "create", *(f"127.0.0.1:{p}" for p in self.ports), "--cluster-replicas", "1"]
            + ["--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        self.wait_healthy()

    def _start_node(self, port: int) -> None:
        node_dir = self.folder / str(port)
        node_dir.mkdir(exist_ok=True)
        log = (node_dir / "redis.log").open("ab")
        self.processes[port] = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(node_dir)]
            + ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000"]
            + ["--save", "", "--appendonly", "no", "--daemonize", "no", "--repl-diskless-sync-delay", "0"],
            stdout=log,
            stderr=log,
        )
        log.close()

    def _answers(self, port: int) -> bool:
        with contextlib.closing(self._node(port)) as node:
            return bool(node.ping())

    def _node(self, port: int) -> redis.Redis[bytes]:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)

    def client(self) -> RedisCluster:
        return RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", p) for p in self.live_ports()])

    def live_ports(self) -> list[int]:
        return [port for port, process in self.processes.items() if process.poll() is None]

    def masters(self) -> list[int]:
        """Ports of the live masters that serve slots."""
        found = []
        for port in self.live_ports():
            with contextlib.closing(self._node(port)) as node:
                info = node.execute_command("ROLE")
                if info[0] == b"master":
                    found.append(port)
        return found

    def kill(self, port: int) -> None:
        """SIGKILL one node; returns at once (a master's replica takes over after the node timeout)."""
        self.processes[port].kill()
        self.processes[port].wait()

    def kill_master(self, port: int) -> None:
        """SIGKILL one master; returns once the cluster has promoted its replica and serves every slot."""
        self.kill(port)
        self.wait_healthy(replicas=False)

    def heal(self) -> None:
        """Restart killed nodes; they rejoin as replicas.  Returns when every master has a replica again."""
        for port, process in list(self.processes.items()):
            if process.poll() is not None:
                self._start_node(port)
        self.wait_healthy()

    def wait_healthy(self, replicas: bool = True) -> None:
        wait_for(lambda: self._healthy(replicas), timeout=60, interval=0.2, what="the Redis Cluster to be whole")

    def _healthy(self, replicas: bool) -> bool:
        masters = 0
        for port in self.live_ports():
            with contextlib.closing(self._node(port)) as node:
                info = node.cluster("INFO")
                if info["cluster_state"] != "ok" or int(info["cluster_slots_ok"]) != 16384:
                    return False
                role = node.execute_command("ROLE")
                if role[0] == b"master":
                    masters += 1
                    if replicas and not role[2]:  # the replicas attached to it
                        return False
                elif role[3] != b"connected":
                    return False
        return masters == 3

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@contextlib.contextmanager
def local_cluster() -> Iterator[LocalCluster]:
    folder = Path(tempfile.mkdtemp(prefix="redis-cluster-"))
    cluster = LocalCluster(folder)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
