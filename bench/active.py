#!/usr/bin/env python3
"""nimbus-active against Reductionist: same MinIO, same objects, same requests, same concurrency.

Both servers run on loopback next to one MinIO; a thread-per-connection load generator (keep-alive
HTTP/1.1, --concurrency connections) sends POST /v2/<op> requests for --seconds per scenario and
server, servers alternating so drift hits both. Reported per scenario: requests/s, GB/s reduced
(decoded bytes the server reduced per second, 10^9), p50/p99 latency and nimbus/Reductionist ratios.
Every scenario's answer is checked against numpy once per server before it is timed. Also reported:
each server's CPU time per request (user + system, from /proc; the steadier figure on a shared
machine) and, when this script started MinIO, MinIO's CPU time per request.

Scenarios (float32 objects of --object-mib, --objects of them, cycled):
- sum-raw:        sum of a whole uncompressed object            (bandwidth: fetch + reduce)
- sum-gzip-shuf:  sum of a gzip-compressed, shuffled object     (decompression)
- max-missing:    max with missing_value over a 3-D strided selection (selection kernels)
- count-small:    count of 1000 elements from a small object    (per-request overhead)

Reductionist is the pinned crate of scripts/versions.sh built with cargo by
`scripts/bootstrap --with-reductionist` (or pass --reductionist). This is a benchmark, not a test.

    python bench/active.py --seconds 5
    python bench/active.py --scenarios sum-raw --concurrency 32 --json /tmp/active.json
"""

from __future__ import annotations

import argparse
import base64
import gzip
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_throughput import ensure_bucket, free_port, s3_target  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent


def find_reductionist(explicit: Optional[str]) -> Optional[Path]:
    if explicit:
        return Path(explicit)
    cache = Path(os.environ.get("NIMBUS_CACHE", Path.home() / ".cache" / "nimbus"))
    found = sorted(cache.glob("reductionist-*/bin/reductionist"), reverse=True)
    return found[0] if found else None


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


class Server:
    def __init__(self, name: str, cmd: list[str], port: int, env: dict, health: str):
        self.name, self.port = name, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = open(f"/tmp/bench-active-{name}.log", "wb")
        self.process = subprocess.Popen(cmd, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.cmd = cmd
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{name} exited at startup; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.url + health, timeout=1):
                    return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.1)
        sys.exit(f"{name} did not start within 30 s; see {self.log.name}")

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.process.pid)

    def rss_mib(self) -> float:
        try:
            for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return float("nan")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def decode_cbor_map(data: bytes) -> dict:
    """The small CBOR subset of a v2 response: a map of text keys to bytes, text, uint arrays."""
    pos = 0

    def head():
        nonlocal pos
        b = data[pos]
        pos += 1
        major, info = b >> 5, b & 31
        if info < 24:
            return major, info
        n = {24: 1, 25: 2, 26: 4, 27: 8}[info]
        v = int.from_bytes(data[pos:pos + n], "big")
        pos += n
        return major, v

    def item():
        nonlocal pos
        major, v = head()
        if major == 0:
            return v
        if major == 1:
            return -1 - v
        if major in (2, 3):
            s = data[pos:pos + v]
            pos += v
            return bytes(s) if major == 2 else s.decode()
        if major == 4:
            return [item() for _ in range(v)]
        if major == 5:
            return {item(): item() for _ in range(v)}
        raise ValueError(f"unexpected CBOR major type {major}")

    return item()


class Scenario:
    def __init__(self, name: str, op: str, bodies: list[dict], expected: list, reduced_bytes: int):
        self.name, self.op, self.bodies, self.expected, self.reduced_bytes = name, op, bodies, expected, reduced_bytes


def build_scenarios(target, args, prefix: str, s3) -> list[Scenario]:
    import numpy as np

    rng = np.random.default_rng(7)
    n = int(args.object_mib * (1 << 20)) // 4
    url = lambda key: f"{target.endpoint}/{target.bucket}/{key}"  # noqa: E731
    out = []
    raw_bodies, raw_exp, gz_bodies, gz_exp, mx_bodies, mx_exp = [], [], [], [], [], []
    side = round(n ** (1 / 3))
    shape3 = [side, side, n // (side * side)]
    for i in range(args.objects):
        a = rng.standard_normal(n, dtype=np.float32)
        key = f"{prefix}raw-{i}"
        s3.put_object(Bucket=target.bucket, Key=key, Body=a.tobytes())
        raw_bodies.append(dict(interface_type="s3", url=url(key), dtype="float32", byte_order="little"))
        raw_exp.append(np.sum(a, dtype=np.float32))
        shuffled = a.view(np.uint8).reshape(-1, 4).T.tobytes()
        key = f"{prefix}gz-{i}"
        s3.put_object(Bucket=target.bucket, Key=key, Body=gzip.compress(shuffled, 1))
        gz_bodies.append(dict(interface_type="s3", url=url(key), dtype="float32", byte_order="little",
                              compression={"id": "gzip"}, filters=[{"id": "shuffle", "element_size": 4}]))
        gz_exp.append(np.sum(a, dtype=np.float32))
        m = a[: int(np.prod(shape3))].reshape(shape3)
        sel = [[1, shape3[0] - 1, 2], [0, shape3[1], 3], [2, shape3[2], 1]]
        sub = m[1:shape3[0] - 1:2, 0:shape3[1]:3, 2:shape3[2]:1]
        missing = float(sub.flat[5])
        mx_bodies.append(dict(interface_type="s3", url=url(f"{prefix}raw-{i}"), dtype="float32",
                              byte_order="little", size=int(np.prod(shape3)) * 4, shape=shape3,
                              selection=sel, missing={"missing_value": missing}))
        mx_exp.append(np.max(sub[sub != np.float32(missing)]))
    small = rng.integers(-1000, 1000, 4096, dtype=np.int32)
    s3.put_object(Bucket=target.bucket, Key=f"{prefix}small", Body=small.tobytes())
    small_body = dict(interface_type="s3", url=url(f"{prefix}small"), dtype="int32", byte_order="little",
                      shape=[4096], selection=[[100, 1100, 1]])
    out.append(Scenario("sum-raw", "sum", raw_bodies, raw_exp, n * 4))
    out.append(Scenario("sum-gzip-shuf", "sum", gz_bodies, gz_exp, n * 4))
    out.append(Scenario("max-missing", "max", mx_bodies, mx_exp, int(np.prod(shape3)) * 4))
    out.append(Scenario("count-small", "count", [small_body], [1000], 4096 * 4))
    return [s for s in out if s.name in args.scenarios.split(",")]


def check_answer(server: Server, sc: Scenario, auth: str) -> None:
    import numpy as np

    for body, want in zip(sc.bodies, sc.expected):
        status, data = post(server.port, sc.op, body, auth)
        if status != 200:
            raise RuntimeError(f"{server.name} {sc.name}: HTTP {status}: {data[:500]!r}")
        m = decode_cbor_map(data)
        got = np.frombuffer(m["bytes"], dtype=m["dtype"]).reshape(m["shape"])
        if sc.op == "sum":
            ok = np.allclose(got, want, rtol=1e-3, atol=1e-2)  # summation order differs
        else:
            ok = np.array_equal(got, want)
        if not ok:
            raise RuntimeError(f"{server.name} {sc.name}: got {got}, want {want}")


def post(port: int, op: str, body: dict, auth: str, conn: Optional[http.client.HTTPConnection] = None):
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    payload = json.dumps(body)
    conn.request("POST", f"/v2/{op}/", body=payload,
                 headers={"Content-Type": "application/json", "Authorization": auth})
    r = conn.getresponse()
    data = r.read()
    if own:
        conn.close()
    return r.status, data


def load(server: Server, sc: Scenario, auth: str, concurrency: int, seconds: float,
         minio_pid: Optional[int] = None) -> dict:
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def worker(k: int):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
        mine, i = [], k
        while time.perf_counter() < stop_at:
            body = sc.bodies[i % len(sc.bodies)]
            i += concurrency
            t0 = time.perf_counter()
            try:
                status, _ = post(server.port, sc.op, body, auth, conn)
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=120)
                status = 0
            if status != 200:
                with lock:
                    errors[0] += 1
                continue
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)

    cpu0 = server.cpu_seconds()
    minio0 = process_cpu_seconds(minio_pid) if minio_pid else float("nan")
    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu = server.cpu_seconds() - cpu0
    minio_cpu = (process_cpu_seconds(minio_pid) - minio0) if minio_pid else float("nan")
    latencies.sort()
    n = len(latencies)
    return dict(
        # CPU per request: far steadier than requests/s on a shared machine, since other jobs
        # slow both servers' wall clock but not the work each request costs.
        server_cpu_ms_per_request=1000 * cpu / n if n else None,
        minio_cpu_ms_per_request=1000 * minio_cpu / n if n else None,
        requests=n,
        errors=errors[0],
        seconds=wall,
        requests_per_s=n / wall,
        gb_per_s=n * sc.reduced_bytes / wall / 1e9,
        p50_ms=1000 * latencies[n // 2] if n else None,
        p99_ms=1000 * latencies[min(n - 1, int(n * 0.99))] if n else None,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(REPO_ROOT / "build" / "release" / "bin" / "nimbus-active"))
    parser.add_argument("--reductionist", help="reductionist binary (default: the cache's)")
    parser.add_argument("--minio")
    parser.add_argument("--bucket", default="nimbus-bench-active")
    parser.add_argument("--objects", type=int, default=8)
    parser.add_argument("--object-mib", type=float, default=8)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8, help="per scenario, server and round")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, servers alternating (2)")
    parser.add_argument("--scenarios", default="sum-raw,sum-gzip-shuf,max-missing,count-small")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="worker threads of both servers")
    parser.add_argument("--json")
    args = parser.parse_args()
    if not Path(args.binary).is_file():
        sys.exit(f"{args.binary} not found: build nimbus-active (release preset) or pass --binary")
    reductionist = find_reductionist(args.reductionist)
    if reductionist is None or not reductionist.is_file():
        sys.exit("reductionist not found: run `scripts/bootstrap --with-reductionist` or pass --reductionist")

    import boto3

    target, minio = s3_target(args.minio, args.bucket)
    servers: list[Server] = []
    results: dict = {}
    try:
        ensure_bucket(target)
        s3 = boto3.client("s3", endpoint_url=target.endpoint, aws_access_key_id=target.access_key,
                          aws_secret_access_key=target.secret_key, region_name=target.region)
        prefix = f"active-bench-{os.getpid()}/"
        scenarios = build_scenarios(target, args, prefix, s3)
        auth = "Basic " + base64.b64encode(f"{target.access_key}:{target.secret_key}".encode()).decode()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["NO_PROXY"] = "127.0.0.1,localhost"
        port = free_port()
        servers.append(Server("nimbus-active", [args.binary, "--listen", f"127.0.0.1:{port}",
                                                "--workers", str(args.threads)], port, env, "/healthz"))
        port = free_port()
        renv = dict(env, REDUCTIONIST_HOST="127.0.0.1", REDUCTIONIST_PORT=str(port),
                    REDUCTIONIST_THREAD_LIMIT=str(args.threads))
        servers.append(Server("reductionist", [str(reductionist)], port, renv, "/.well-known/reductionist-schema"))
        for sc in scenarios:
            for server in servers:
                check_answer(server, sc, auth)
            runs: dict = {s.name: [] for s in servers}
            for rnd in range(args.rounds):
                order = servers if rnd % 2 == 0 else servers[::-1]
                for server in order:
                    print(f"[active] {sc.name}: {server.name} round {rnd + 1}", file=sys.stderr, flush=True)
                    runs[server.name].append(load(server, sc, auth, args.concurrency, args.seconds,
                                                  minio.process.pid if minio is not None else None))
            results[sc.name] = {}
            for name, rs in runs.items():
                best = max(rs, key=lambda r: r["requests_per_s"])
                best["rounds_requests_per_s"] = [r["requests_per_s"] for r in rs]
                results[sc.name][name] = best
        peak_rss = {s.name: s.rss_mib() for s in servers}
    finally:
        for s in servers:
            s.stop()
        if minio is not None:
            minio.stop()

    print(f"active: {args.objects} float32 objects of {args.object_mib:g} MiB, concurrency {args.concurrency}, "
          f"{args.threads} server threads, {args.seconds:g} s x {args.rounds} rounds (best round); "
          f"{platform.node()}, {os.cpu_count()} CPUs; GB = 10^9 bytes")
    print(f"{'scenario':<15} {'server':<14} {'req/s':>9} {'GB/s':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'errors':>6} {'CPU ms/req':>10} {'MinIO ms/req':>12}")
    for name, per in results.items():
        for server, r in per.items():
            print(f"{name:<15} {server:<14} {r['requests_per_s']:>9.1f} {r['gb_per_s']:>7.2f} "
                  f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {r['errors']:>6} "
                  f"{r['server_cpu_ms_per_request']:>10.2f} {r['minio_cpu_ms_per_request']:>12.2f}")
        n, rd = per["nimbus-active"], per["reductionist"]
        print(f"{name:<15} {'ratio n/r':<14} {n['requests_per_s'] / rd['requests_per_s']:>9.2f} "
              f"{'':>7} {n['p50_ms'] / rd['p50_ms']:>8.2f} {n['p99_ms'] / rd['p99_ms']:>8.2f} {'':>6} "
              f"{n['server_cpu_ms_per_request'] / rd['server_cpu_ms_per_request']:>10.2f}")
    print("peak RSS MiB: " + ", ".join(f"{k} {v:.0f}" for k, v in peak_rss.items()))
    print(f"reductionist: {reductionist}")
    if args.json:
        Path(args.json).write_text(json.dumps(dict(args=vars(args), results=results, peak_rss_mib=peak_rss), indent=2))
    errors = sum(r["errors"] for per in results.values() for r in per.values())
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
