"""The S3 driver under faults: what is retried, what is not, and how long failing takes.

nimbus-store talks to MinIO through a fault injector on a free loopback port:
  * FaultProxy (HTTP level): error documents (503 SlowDown, 500, 429, 403, 400), delays,
    bodies cut short or reset, stalls mid-body; it counts every attempt it receives.
  * Toxiproxy (TCP level): reset_peer, timeout (stall), latency, bandwidth. Where attempts must be
    counted, Toxiproxy forwards to a FaultProxy that forwards to MinIO.
Objects are written and read back with boto3 directly against MinIO, so the oracle is independent
of the client under test. Every test is bounded by pytest-timeout and subprocess timeouts.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
import time
import uuid
from pathlib import Path
from typing import Optional
from urllib.parse import urlsplit

import pytest

from conftest import servers_required, tool_path
from fault_proxy import Fault, FaultProxy, Toxiproxy

pytestmark = [pytest.mark.s3, pytest.mark.timeout(60)]

# Quick retries so a test with several attempts stays well inside its time budget.
BASE_SETTINGS = {
    "retry_max_attempts": "5",
    "retry_initial_backoff_ms": "20",
    "retry_max_backoff_ms": "200",
    "deadline_ms": "30000",
    "stall_timeout_ms": "10000",
    "connect_timeout_ms": "5000",
}
CLI_TIMEOUT_S = 45  # a hung client fails its test instead of blocking the run


class StoreCli:
    """Runs nimbus-store against one endpoint with explicit settings (never the caller's AWS_*)."""

    def __init__(self, binary: Path, s3_config):
        self.binary = binary
        self.config = s3_config

    def run(
        self,
        *args: str,
        endpoint: Optional[str] = None,
        secret_key: Optional[str] = None,
        timeout: float = CLI_TIMEOUT_S,
        **settings: str,
    ) -> subprocess.CompletedProcess:
        merged = dict(BASE_SETTINGS, **{k: str(v) for k, v in settings.items()})
        command = [
            str(self.binary),
            "--set", f"endpoint={endpoint or self.config.endpoint}",
            "--set", f"region={self.config.region}",
            "--set", "addressing=path",
            "--set", f"access_key_id={self.config.access_key}",
            "--set", f"secret_access_key={secret_key or self.config.secret_key}",
            # Several settings in one --set, as documented for the CLI.
            "--set", ",".join(f"{k}={v}" for k, v in merged.items()),
            *args,
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return subprocess.run(command, capture_output=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def cli(built_binary, s3_config) -> StoreCli:
    return StoreCli(built_binary("nimbus-store"), s3_config)


@pytest.fixture
def proxy(s3_config):
    with FaultProxy(urlsplit(s3_config.endpoint).netloc) as p:
        yield p


@pytest.fixture(scope="module")
def toxiproxy():
    binary = tool_path("toxiproxy")
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        message = f"toxiproxy-server not found at {binary} (set NIMBUS_TOXIPROXY)"
        if servers_required():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with Toxiproxy(str(binary)) as t:
        yield t


@pytest.fixture
def toxic_proxy(toxiproxy, proxy):
    """A Toxiproxy proxy in front of the FaultProxy (which counts attempts); yields (name, addr)."""
    name = f"minio-{uuid.uuid4().hex[:8]}"
    listen = toxiproxy.create_proxy(name, proxy.address)
    yield name, listen
    toxiproxy.delete_proxy(name)


@pytest.fixture
def obj(s3_config, s3_client, unique_prefix):
    """Uploads random bytes with boto3: obj(size) -> (key, url, data)."""

    def make(size: int, name: str = "object"):
        key = f"{unique_prefix}{name}"
        data = os.urandom(size)
        s3_client.put_object(Bucket=s3_config.bucket, Key=key, Body=data)
        return key, f"s3://{s3_config.bucket}/{key}", data

    return make


def read_back(s3_client, s3_config, key: str) -> bytes:
    return s3_client.get_object(Bucket=s3_config.bucket, Key=key)["Body"].read()


def expect_ok(result: subprocess.CompletedProcess):
    assert result.returncode == 0, result.stderr.decode(errors="replace")


def expect_error(result: subprocess.CompletedProcess, *patterns: str) -> str:
    """Exit 1 with one 'nimbus-store: <status>' line matching every pattern; returns the text."""
    stderr = result.stderr.decode(errors="replace")
    assert result.returncode == 1, (result.returncode, stderr)
    assert stderr.startswith("nimbus-store: "), stderr
    for pattern in patterns:
        assert re.search(pattern, stderr, re.IGNORECASE), (pattern, stderr)
    return stderr


TRANSIENT_ERRORS = [
    pytest.param(503, "SlowDown", id="503-SlowDown"),
    pytest.param(500, "InternalError", id="500-InternalError"),
    pytest.param(429, "TooManyRequests", id="429-TooManyRequests"),
]


# ------------------------------------------------------------------------------------------------
# HTTP-level faults (FaultProxy)


@pytest.mark.parametrize("status,code", TRANSIENT_ERRORS)
def test_get_succeeds_after_transient_errors(cli, proxy, obj, status, code):
    key, url, data = obj(256 * 1024)
    proxy.add_fault(Fault.error(status, code, times=2, method="GET", path_contains=key))

    result = cli.run("get", url, endpoint=proxy.endpoint)

    expect_ok(result)
    assert result.stdout == data
    assert proxy.count("GET", key) == 3  # two refused attempts, then the good one
    assert proxy.injected() == 2


@pytest.mark.parametrize("status,code", TRANSIENT_ERRORS)
def test_put_succeeds_after_transient_errors(
    cli, proxy, s3_client, s3_config, unique_prefix, tmp_path, status, code
):
    key = f"{unique_prefix}uploaded"
    data = os.urandom(3 * 1024 * 1024 + 17)  # large enough for Expect: 100-continue
    source = tmp_path / "payload"
    source.write_bytes(data)
    proxy.add_fault(Fault.error(status, code, times=2, method="PUT", path_contains=key))

    result = cli.run("put", f"s3://{s3_config.bucket}/{key}", str(source), endpoint=proxy.endpoint)

    expect_ok(result)
    assert proxy.count("PUT", key) == 3
    assert all(r.body_bytes == len(data) for r in proxy.requests() if r.method == "PUT")
    assert read_back(s3_client, s3_config, key) == data


@pytest.mark.parametrize(
    "method,status,code",
    [
        pytest.param("GET", 403, "AccessDenied", id="GET-403"),
        pytest.param("GET", 400, "InvalidRequest", id="GET-400"),
        pytest.param("PUT", 403, "AccessDenied", id="PUT-403"),
        pytest.param("HEAD", 400, "BadRequest", id="HEAD-400"),
    ],
)
def test_permanent_error_is_not_retried(cli, proxy, obj, tmp_path, method, status, code):
    key, url, _ = obj(1024)
    proxy.add_fault(Fault.error(status, code, times=None, method=method, path_contains=key))
    source = tmp_path / "payload"
    source.write_bytes(b"x" * 100)
    command = {"GET": ["get", url], "PUT": ["put", url, str(source)], "HEAD": ["head", url]}

    result = cli.run(*command[method], endpoint=proxy.endpoint)

    patterns = [rf"HTTP {status}"]
    if method != "HEAD":  # a HEAD response has no error document to name the code
        patterns.append(code)
    if status == 403:
        patterns.append("access denied")
    expect_error(result, *patterns)
    assert proxy.count(method, key) == 1


def test_rejected_signature_is_not_retried(cli, proxy, obj):
    key, url, _ = obj(1024)

    result = cli.run("get", url, endpoint=proxy.endpoint, secret_key="not-the-secret-key")

    expect_error(result, "access denied", r"HTTP 403", "SignatureDoesNotMatch")
    assert proxy.count("GET", key) == 1


def test_retries_stop_at_max_attempts(cli, proxy, obj):
    key, url, _ = obj(1024)
    proxy.add_fault(Fault.error(503, "SlowDown", times=None, method="GET", path_contains=key))

    result = cli.run("get", url, endpoint=proxy.endpoint, retry_max_attempts=3)

    expect_error(result, r"HTTP 503", "SlowDown")
    assert proxy.count("GET", key) == 3


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
def test_body_cut_short_is_retried(cli, proxy, obj, reset):
    key, url, data = obj(2 * 1024 * 1024)
    proxy.add_fault(Fault.truncate(300_000, reset=reset, method="GET", path_contains=key))

    result = cli.run("get", url, endpoint=proxy.endpoint)

    expect_ok(result)
    assert result.stdout == data
    assert proxy.count("GET", key) == 2


def test_connection_reset_before_response_is_retried(cli, proxy, obj):
    key, url, data = obj(64 * 1024)
    proxy.add_fault(Fault.reset_connection(method="GET", path_contains=key))

    result = cli.run("get", url, endpoint=proxy.endpoint)

    expect_ok(result)
    assert result.stdout == data
    assert proxy.count("GET", key) == 2


def test_slow_first_response_is_abandoned_and_retried(cli, proxy, obj):
    key, url, data = obj(64 * 1024)
    proxy.add_fault(Fault.delay(8.0, method="GET", path_contains=key))

    start = time.monotonic()
    result = cli.run("get", url, endpoint=proxy.endpoint, stall_timeout_ms=1000)
    elapsed = time.monotonic() - start

    expect_ok(result)
    assert result.stdout == data
    assert proxy.count("GET", key) == 2
    assert elapsed < 6.0, f"waited {elapsed:.1f}s: the stalled attempt was not abandoned"


def test_stall_mid_body_is_retried(cli, proxy, obj):
    key, url, data = obj(1024 * 1024)
    proxy.add_fault(Fault.stall(100_000, 8.0, method="GET", path_contains=key))

    start = time.monotonic()
    result = cli.run("get", url, endpoint=proxy.endpoint, stall_timeout_ms=1000)
    elapsed = time.monotonic() - start

    expect_ok(result)
    assert result.stdout == data
    assert proxy.count("GET", key) == 2
    assert elapsed < 6.0, f"waited {elapsed:.1f}s: the stalled attempt was not abandoned"


def test_endless_stall_fails_within_deadline(cli, proxy, obj):
    key, url, _ = obj(1024)
    proxy.add_fault(Fault.delay(30.0, times=None, method="GET", path_contains=key))

    start = time.monotonic()
    result = cli.run(
        "get", url, endpoint=proxy.endpoint,
        stall_timeout_ms=1000, deadline_ms=3000, retry_max_attempts=50,
    )
    elapsed = time.monotonic() - start

    expect_error(result, "^nimbus-store: deadline exceeded", "timeout|timed out")
    assert 1.0 <= elapsed < 3.0 + 2.0, f"failed after {elapsed:.1f}s with a 3 s deadline"
    assert proxy.count("GET", key) >= 2  # the 1 s stall timeout ended attempts before the deadline


# ------------------------------------------------------------------------------------------------
# TCP-level faults (Toxiproxy)


def test_toxiproxy_latency(cli, toxiproxy, toxic_proxy, obj):
    name, listen = toxic_proxy
    key, url, data = obj(512 * 1024)
    toxiproxy.add_toxic(name, "latency", {"latency": 400, "jitter": 0})

    start = time.monotonic()
    result = cli.run("get", url, endpoint=f"http://{listen}")
    elapsed = time.monotonic() - start

    expect_ok(result)
    assert result.stdout == data
    assert elapsed >= 0.4


def test_toxiproxy_bandwidth_limited_download(cli, toxiproxy, toxic_proxy, proxy, obj):
    name, listen = toxic_proxy
    key, url, data = obj(3 * 1024 * 1024 + 5)
    toxiproxy.add_toxic(name, "bandwidth", {"rate": 1024})  # KB/s: about 3 s for the object

    start = time.monotonic()
    result = cli.run("get", url, endpoint=f"http://{listen}", stall_timeout_ms=2000)
    elapsed = time.monotonic() - start

    expect_ok(result)
    assert result.stdout == data
    assert proxy.count("GET", key) == 1  # slow is not stalled: no retry
    assert elapsed >= 2.0, f"{elapsed:.1f}s: the bandwidth limit was not in effect"


def test_toxiproxy_stall_fails_within_deadline(cli, toxiproxy, toxic_proxy, obj):
    name, listen = toxic_proxy
    key, url, _ = obj(1024)
    toxiproxy.add_toxic(name, "timeout", {"timeout": 0})  # swallow every response byte

    start = time.monotonic()
    result = cli.run(
        "get", url, endpoint=f"http://{listen}",
        stall_timeout_ms=1000, deadline_ms=4000, retry_max_attempts=50,
    )
    elapsed = time.monotonic() - start

    expect_error(result, "^nimbus-store: deadline exceeded", "timeout|timed out")
    assert elapsed < 4.0 + 2.0, f"failed after {elapsed:.1f}s with a 4 s deadline"


def test_toxiproxy_stall_exhausts_attempts(cli, toxiproxy, toxic_proxy, proxy, obj):
    name, listen = toxic_proxy
    key, url, _ = obj(1024)
    toxiproxy.add_toxic(name, "timeout", {"timeout": 0})

    start = time.monotonic()
    result = cli.run(
        "get", url, endpoint=f"http://{listen}",
        stall_timeout_ms=1000, deadline_ms=30000, retry_max_attempts=2,
    )
    elapsed = time.monotonic() - start

    expect_error(result, "^nimbus-store: transient error", "stalled|too slow|timed out")
    assert proxy.count("GET", key) == 2
    assert elapsed < 2 * (1.0 + 1.5), f"two 1 s stalls took {elapsed:.1f}s"


def test_toxiproxy_reset_mid_body_is_retried(cli, toxiproxy, toxic_proxy, proxy, obj):
    name, listen = toxic_proxy
    key, url, data = obj(2 * 1024 * 1024)
    toxiproxy.add_toxic(name, "bandwidth", {"rate": 1024})  # ~2 s per attempt: time to cut in
    # The retry's response is held back for a second, so the reset toxic is gone before any of
    # its bytes flow (a reset_peer toxic resets every connection that carries data).
    proxy.add_fault(Fault.delay(1.0, skip=1, method="GET", path_contains=key))

    outcome = {}
    runner = threading.Thread(
        target=lambda: outcome.update(result=cli.run("get", url, endpoint=f"http://{listen}"))
    )
    runner.start()
    try:
        proxy.wait_for(lambda p: p.count("GET", key) >= 1 or not runner.is_alive(), timeout=10)
        assert runner.is_alive() and proxy.count("GET", key) == 1, (outcome, proxy.requests())
        time.sleep(0.6)  # about 600 KB of the 2 MiB body have reached the client
        reset = toxiproxy.add_toxic(name, "reset_peer", {"timeout": 0})
        time.sleep(0.3)
        toxiproxy.remove_toxic(name, reset)
    finally:
        runner.join(timeout=CLI_TIMEOUT_S + 5)

    result = outcome["result"]
    expect_ok(result)
    assert result.stdout == data
    # The reset attempt and the retry that succeeded.
    assert proxy.count("GET", key) == 2, proxy.requests()
