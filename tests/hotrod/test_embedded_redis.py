"""The embedded Redis dies with the process that started it, even one killed with SIGKILL, and starts again after."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import redis

from embedded_redis import EmbeddedRedis
from tests.support import wait_for


def alive(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def redis_child(parent: int) -> psutil.Process | None:
    return next((c for c in psutil.Process(parent).children() if c.name() == "redis-server"), None)


def test_a_killed_driver_takes_its_embedded_redis_with_it(tmp_path: Path) -> None:
    hotrod = Path(sys.executable).parent / "hotrod"
    env = {**os.environ, "OTEL_SDK_DISABLED": "true"}
    command = [str(hotrod), "driver", "--driver-port", "0", "--data-dir", str(tmp_path)]
    driver = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        server = wait_for(lambda: redis_child(driver.pid), what="the driver's embedded redis-server")
        driver.kill()
        driver.wait()
        wait_for(lambda: not alive(server), timeout=15, what=f"redis-server {server.pid} to exit with its parent")
    finally:
        driver.kill()
        driver.wait()


def test_the_next_start_takes_over_the_socket_a_killed_server_left(tmp_path: Path) -> None:
    killed = EmbeddedRedis(tmp_path / "drivers.rdb")
    os.kill(killed.pid, signal.SIGKILL)  # as the kernel does when the demo dies: the socket file stays behind
    wait_for(lambda: not alive(psutil.Process(killed.pid)), what="the killed redis-server to exit")
    assert (tmp_path / "redis.sock").exists()

    restarted = EmbeddedRedis(tmp_path / "drivers.rdb")
    try:
        assert redis.Redis.from_url(restarted.url).ping()
    finally:
        restarted.close()
        killed.close()
