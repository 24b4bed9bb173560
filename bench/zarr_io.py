#!/usr/bin/env python3
"""Zarr v3 I/O of nimbus against TensorStore, zarr-python and the raw store, on one MinIO.

One run, one endpoint, one array geometry: a float32 array of --size-gib (default 2 GiB) shaped
(rows, --cols) with chunks (--chunk-rows, --cols) (4 MiB by default), codec bytes only (--codec raw,
so it measures I/O rather than compression) or bytes + zstd (--codec zstd). Measured:

1. bulk write and bulk read MB/s (10^6 bytes/s), the whole array in slabs of --slab-mib per call
   (writes once; reads --rounds times with the clients' order rotated, the median reported):
   - nimbus: bench/zarr_io (C++, ZarrArray over OpenStore("s3://...") with max_connections =
     max_in_flight = --concurrency);
   - TensorStore: zarr3 driver on its s3 kvstore (s3_request_concurrency limit = --concurrency,
     chunk cache off);
   - zarr-python 3: zarr.storage.ObjectStore over obstore's S3Store (async.concurrency =
     --concurrency);
   - raw store: bench/store_throughput (nimbus's ObjectStore, no Zarr) PUT/GET of as many objects
     of the chunk size, same concurrency: the limit of the store + client on this machine.
2. sparse reads x[:, column] and x[::row_step, :], timed, with the bytes each client moved
   measured at MinIO (its v3 metrics endpoint; a MinIO started here runs with
   MINIO_PROMETHEUS_AUTH_TYPE=public) and, for nimbus, also ZarrArray::stats().bytes_read; against
   the minimum under the layout (the selected elements' bytes; whole chunks touched, which is the
   minimum for compressed chunks and what a whole-chunk reader moves). Repeated on a sharded
   variant (--shard-rows x --cols shards of --inner x --inner chunks) that nimbus writes and all
   three read.

Each client writes and reads its own copy (identical bytes: element (r, c) is a 24-bit hash of
r * cols + c, stored exactly as float32); bulk reads check 8 rows of every slab, sparse reads
every element. Timing covers the library calls only (data generation and checks are outside).

The endpoint is NIMBUS_TEST_S3_ENDPOINT/_BUCKET/_ACCESS_KEY/_SECRET_KEY/_REGION when set (bytes
of non-nimbus clients are then reported only if its metrics endpoint is public); otherwise a
MinIO is started on a free loopback port with a temporary data directory and stopped at the end.

This is a benchmark, not a test: nothing in ctest or pytest runs it.

    python3 bench/zarr_io.py --size-gib 0.5                  # quick
    python3 bench/zarr_io.py --json /tmp/zarr_io.json        # 2 GiB, raw chunks, concurrency 8
    python3 bench/zarr_io.py --codec zstd --no-sharded
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import secrets
import shlex
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Callable, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_throughput import (  # noqa: E402 (shared MinIO/S3 plumbing of the raw-store bench)
    S3Target,
    ensure_bucket,
    nimbus_env,
    s3_target,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
MB = 1e6
HASH = 2654435761


# --- data ------------------------------------------------------------------------------------


def values(start: int, count: int):
    """Elements start .. start+count-1 of the flat array (same formula as zarr_io.cc Value)."""
    import numpy as np

    a = np.arange(count, dtype=np.uint32)
    a += np.uint32(start & 0xFFFFFFFF)
    a *= np.uint32(HASH)
    a >>= np.uint32(8)
    return a.astype(np.float32)


def values_at(flat):
    import numpy as np

    a = (np.asarray(flat, dtype=np.uint64) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    a *= np.uint32(HASH)
    a >>= np.uint32(8)
    return a.astype(np.float32)


def check_slab(g, row0: int, got) -> None:
    import numpy as np

    n = got.shape[0]
    for s in range(8):
        r = 0 if n == 1 else (n - 1) * s // 7
        want = values((row0 + r) * g.cols, g.cols)
        if not np.array_equal(got[r].view(np.uint32), want.view(np.uint32)):
            raise RuntimeError(f"row {row0 + r} reads wrong values")


def expected_sparse(g, which: str):
    import numpy as np

    if which == "column":
        return values_at(np.arange(g.rows, dtype=np.uint64) * g.cols + g.column)
    rows = np.arange(0, g.rows, g.row_step, dtype=np.uint64)
    flat = rows[:, None] * np.uint64(g.cols) + np.arange(g.cols, dtype=np.uint64)[None, :]
    return values_at(flat)


# --- geometry --------------------------------------------------------------------------------


class Geometry:
    def __init__(self, args, sharded: bool):
        self.cols = args.cols
        self.rows = args.rows
        self.sharded = sharded
        self.chunk_rows = args.shard_rows if sharded else args.chunk_rows
        self.inner = args.inner
        self.codec = args.codec
        self.zstd_level = args.zstd_level
        self.column = args.column
        self.row_step = args.row_step
        row_bytes = self.cols * 4
        slab = max(self.chunk_rows, int(args.slab_mib * (1 << 20)) // row_bytes)
        self.slab_rows = min(self.rows, slab // self.chunk_rows * self.chunk_rows)
        self.bytes = self.rows * row_bytes

    # The unit a reader fetches whole: the chunk, or the inner chunk of a shard.
    def read_unit(self) -> tuple[int, int]:
        return (self.inner, self.inner) if self.sharded else (self.chunk_rows, self.cols)

    def slabs(self):
        for r0 in range(0, self.rows, self.slab_rows):
            yield r0, min(self.rows, r0 + self.slab_rows)

    def sparse_selected(self, which: str) -> int:
        if which == "column":
            return self.rows
        return math.ceil(self.rows / self.row_step) * self.cols

    def sparse_units(self, which: str) -> tuple[int, int]:
        """(read units touched, read units in the array)."""
        ur, uc = self.read_unit()
        grid_r, grid_c = math.ceil(self.rows / ur), math.ceil(self.cols / uc)
        if which == "column":
            return grid_r, grid_r * grid_c
        touched_r = len({r // ur for r in range(0, self.rows, self.row_step)})
        return touched_r * grid_c, grid_r * grid_c

    def metadata(self) -> dict:
        chain = [{"name": "bytes", "configuration": {"endian": "little"}}]
        if self.codec == "zstd":
            chain.append({"name": "zstd", "configuration": {"level": self.zstd_level, "checksum": False}})
        if self.sharded:
            chain = [
                {
                    "name": "sharding_indexed",
                    "configuration": {
                        "chunk_shape": [self.inner, self.inner],
                        "codecs": chain,
                        "index_codecs": [
                            {"name": "bytes", "configuration": {"endian": "little"}},
                            {"name": "crc32c"},
                        ],
                        "index_location": "end",
                    },
                }
            ]
        return {
            "zarr_format": 3,
            "node_type": "array",
            "shape": [self.rows, self.cols],
            "data_type": "float32",
            "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": [self.chunk_rows, self.cols]}},
            "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
            "fill_value": 0.0,
            "codecs": chain,
        }


# --- MinIO metrics ---------------------------------------------------------------------------


class Metrics:
    """Payload bytes and requests at the server, from MinIO's v3 metrics (public auth)."""

    URL = "/minio/metrics/v3/api/requests"

    def __init__(self, endpoint: str):
        self.url = endpoint.rstrip("/") + self.URL
        self.available = self.sample() is not None

    def sample(self) -> Optional[dict]:
        try:
            with urllib.request.urlopen(self.url, timeout=5) as response:
                text = response.read().decode()
        except OSError:
            return None
        out = {"sent": 0.0, "received": 0.0, "requests": {}}
        for line in text.splitlines():
            if line.startswith("minio_api_requests_traffic_sent_bytes"):
                out["sent"] += float(line.rsplit(" ", 1)[1])
            elif line.startswith("minio_api_requests_traffic_received_bytes"):
                out["received"] += float(line.rsplit(" ", 1)[1])
            elif line.startswith("minio_api_requests_total{"):
                m = re.search(r'name="([^"]+)"', line)
                if m:
                    out["requests"][m.group(1)] = out["requests"].get(m.group(1), 0) + float(line.rsplit(" ", 1)[1])
        return out  # an idle server answers 200 with no samples: all zero

    def measure(self, fn: Callable[[], dict]) -> dict:
        before = self.sample() if self.available else None
        result = fn()
        after = self.sample() if before is not None else None
        if before is not None and after is not None:
            reqs = {
                k: int(after["requests"].get(k, 0) - before["requests"].get(k, 0))
                for k in after["requests"]
                if after["requests"].get(k, 0) != before["requests"].get(k, 0)
            }
            result["server"] = {
                "bytes_sent": int(after["sent"] - before["sent"]),
                "bytes_received": int(after["received"] - before["received"]),
                "requests": reqs,
            }
        return result


def phase_result(seconds: float, nbytes: int, **extra) -> dict:
    return dict(seconds=seconds, bytes=nbytes, mb_per_s=nbytes / seconds / MB if seconds > 0 else 0.0, **extra)


# --- nimbus ----------------------------------------------------------------------------------


def find_build_bin(explicit: Optional[str]) -> Path:
    def complete(d: Path) -> bool:
        return (d / "zarr_io").is_file() and (d / "store_throughput").is_file()

    if explicit:
        # An explicit choice is never silently replaced by another build's binaries.
        if complete(Path(explicit)):
            return Path(explicit).resolve()
        sys.exit(f"--bin-dir {explicit}: zarr_io and store_throughput are not both there")
    candidates = []
    if os.environ.get("NIMBUS_BUILD_DIR"):
        candidates.append(Path(os.environ["NIMBUS_BUILD_DIR"]) / "bin")
    for preset in ("release", "dev"):
        candidates.append(REPO_ROOT / "build" / preset / "bin")
    for candidate in candidates:
        if complete(candidate):
            return candidate.resolve()
    sys.exit(
        "zarr_io / store_throughput binaries not found (tried "
        + ", ".join(str(c) for c in candidates)
        + "); build them (ninja zarr_io store_throughput) or pass --bin-dir"
    )


class Nimbus:
    name = "nimbus"

    def __init__(self, bin_dir: Path, target: S3Target, args, prefix: str):
        self.binary = bin_dir / "zarr_io"
        self.target = target
        self.args = args
        self.prefix = prefix
        self.env = nimbus_env(target)
        self.commands: list[str] = []

    def command(self, g: Geometry, path: str, phases: str, window: int = 0) -> list[str]:
        t = self.target
        cmd = [
            str(self.binary),
            "--url", f"s3://{t.bucket}/{self.prefix}",
            "--set", f"endpoint={t.endpoint},region={t.region},addressing=path",
            "--path", path,
            "--rows", str(g.rows),
            "--cols", str(g.cols),
            "--codec", g.codec,
            "--zstd-level", str(g.zstd_level),
            "--concurrency", str(self.args.concurrency),
            "--slab-mib", str(self.args.slab_mib),
            "--column", str(g.column),
            "--row-step", str(g.row_step),
            "--phases", phases,
        ]
        if g.sharded:
            cmd += ["--shard-rows", str(g.chunk_rows), "--inner-rows", str(g.inner), "--inner-cols", str(g.inner)]
        else:
            cmd += ["--chunk-rows", str(g.chunk_rows)]
        if window:
            cmd += ["--window", str(window)]
        for setting in self.args.set:
            cmd += ["--set", setting]
        return cmd

    def run(self, g: Geometry, path: str, phases: str, window: int = 0) -> dict:
        cmd = self.command(g, path, phases, window)
        self.commands.append(shlex.join(cmd))
        done = subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=7200)
        if done.returncode != 0:
            raise RuntimeError(f"zarr_io {phases} failed ({done.returncode}): {done.stderr.strip()}")
        return json.loads(done.stdout)

    def phase(self, g: Geometry, path: str, phase: str, window: int = 0) -> dict:
        phases = f"create,{phase}" if phase == "write" else phase
        report = self.run(g, path, phases, window)
        out = dict(report[phase])
        out["engine_bytes_read"] = out["io"]["bytes_read"]
        return out


# --- TensorStore -----------------------------------------------------------------------------


class TensorStoreClient:
    name = "tensorstore"

    def __init__(self, target: S3Target, args, prefix: str):
        import tensorstore as ts

        self.ts = ts
        self.target = target
        self.args = args
        self.prefix = prefix
        # Its "environment" credentials provider reads these.
        os.environ["AWS_ACCESS_KEY_ID"] = target.access_key
        os.environ["AWS_SECRET_ACCESS_KEY"] = target.secret_key

    def context(self):
        return self.ts.Context(
            {
                "s3_request_concurrency": {"limit": self.args.concurrency},
                "cache_pool": {"total_bytes_limit": 0},
            }
        )

    def spec(self, path: str) -> dict:
        t = self.target
        return {
            "driver": "zarr3",
            "kvstore": {
                "driver": "s3",
                "bucket": t.bucket,
                "path": f"{self.prefix}{path}/",
                "endpoint": t.endpoint,
                "aws_region": t.region,
                "aws_credentials": {"type": "environment"},
            },
        }

    def open(self, g: Geometry, path: str, create: bool):
        spec = self.spec(path)
        if create:
            md = g.metadata()
            spec["metadata"] = {k: v for k, v in md.items() if k not in ("zarr_format", "node_type")}
            spec["create"] = True
        return self.ts.open(spec, context=self.context()).result()

    def write_slab(self, arr, r0, r1, data):
        arr[r0:r1, :].write(data).result()

    def read_slab(self, arr, r0, r1):
        return arr[r0:r1, :].read().result()

    def read_sparse(self, arr, g: Geometry, which: str):
        if which == "column":
            return arr[:, g.column].read().result()
        return arr[:: g.row_step, :].read().result()


# --- zarr-python -----------------------------------------------------------------------------


class NumpyIndexedClient:
    """Slab and sparse access by numpy indexing (zarr-python arrays, h5py datasets)."""

    def write_slab(self, arr, r0, r1, data):
        arr[r0:r1, :] = data

    def read_slab(self, arr, r0, r1):
        return arr[r0:r1, :]

    def read_sparse(self, arr, g: Geometry, which: str):
        if which == "column":
            return arr[:, g.column]
        return arr[:: g.row_step, :]


class ZarrPythonClient(NumpyIndexedClient):
    name = "zarr-python"

    def __init__(self, target: S3Target, args, prefix: str):
        import zarr
        from obstore.store import S3Store
        from zarr.storage import ObjectStore

        self.zarr = zarr
        zarr.config.set({"async.concurrency": args.concurrency})
        self.store = ObjectStore(
            S3Store(
                target.bucket,
                prefix=prefix.rstrip("/"),
                endpoint=target.endpoint,
                access_key_id=target.access_key,
                secret_access_key=target.secret_key,
                region=target.region,
                virtual_hosted_style_request=False,
                client_options={"allow_http": True},
            )
        )

    def open(self, g: Geometry, path: str, create: bool):
        if not create:
            return self.zarr.open_array(self.store, path=path, mode="r")
        from zarr.codecs import ZstdCodec

        compressors = [ZstdCodec(level=g.zstd_level, checksum=False)] if g.codec == "zstd" else None
        kwargs = dict(chunks=(g.chunk_rows, g.cols))
        if g.sharded:
            kwargs = dict(chunks=(g.inner, g.inner), shards=(g.chunk_rows, g.cols))
        return self.zarr.create_array(
            self.store,
            name=path,
            shape=(g.rows, g.cols),
            dtype="float32",
            compressors=compressors,
            filters=None,
            fill_value=0.0,
            **kwargs,
        )



def py_phase(client, g: Geometry, path: str, phase: str, verify: bool) -> dict:
    import numpy as np

    if phase == "write":
        arr = client.open(g, path, create=True)
        seconds = 0.0
        for r0, r1 in g.slabs():
            data = values(r0 * g.cols, (r1 - r0) * g.cols).reshape(r1 - r0, g.cols)
            t0 = time.perf_counter()
            client.write_slab(arr, r0, r1, data)
            seconds += time.perf_counter() - t0
        return phase_result(seconds, g.bytes)
    arr = client.open(g, path, create=False)
    if phase == "read":
        seconds = 0.0
        for r0, r1 in g.slabs():
            t0 = time.perf_counter()
            got = client.read_slab(arr, r0, r1)
            seconds += time.perf_counter() - t0
            if verify:
                check_slab(g, r0, np.asarray(got))
        return phase_result(seconds, g.bytes)
    t0 = time.perf_counter()
    got = client.read_sparse(arr, g, phase)
    seconds = time.perf_counter() - t0
    got = np.asarray(got)
    if verify:
        want = expected_sparse(g, phase)
        if got.shape != want.shape or not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            raise RuntimeError(f"{client.name}: {phase} read wrong values")
    return phase_result(seconds, got.nbytes, selected_elements=int(got.size))


# --- driver ----------------------------------------------------------------------------------


def run_raw(bin_dir: Path, target: S3Target, args, prefix: str, g: Geometry, phase: str,
            keep: bool) -> tuple[dict, str]:
    chunk_bytes = g.chunk_rows * g.cols * 4
    objects = max(1, g.bytes // chunk_bytes)
    cmd = [
        str(bin_dir / "store_throughput"),
        "--url", f"s3://{target.bucket}",
        "--set", f"endpoint={target.endpoint},region={target.region},addressing=path",
        "--objects", str(objects),
        "--size", str(chunk_bytes),
        "--concurrency", str(args.concurrency),
        "--key-prefix", f"{prefix}raw/",
        "--phases", phase,
        "--no-verify",
    ]
    if keep:
        cmd.append("--keep")
    for setting in args.set:
        cmd += ["--set", setting]
    done = subprocess.run(cmd, env=nimbus_env(target), capture_output=True, text=True, timeout=7200)
    if done.returncode != 0:
        raise RuntimeError(f"store_throughput failed ({done.returncode}): {done.stderr.strip()}")
    return json.loads(done.stdout), shlex.join(cmd)


def fmt(x, spec=".1f", none="-"):
    return none if x is None else format(x, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-gib", type=float, default=2.0, help="array size in GiB (2)")
    parser.add_argument("--cols", type=int, default=1024, help="columns; a chunk spans all (1024)")
    parser.add_argument("--chunk-rows", type=int, default=1024, help="chunk rows (1024: 4 MiB chunks)")
    parser.add_argument("--codec", choices=["raw", "zstd"], default="raw", help="bytes only (raw) or + zstd")
    parser.add_argument("--zstd-level", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight for every client (8)")
    parser.add_argument("--slab-mib", type=float, default=256, help="MiB per bulk read/write call (256)")
    parser.add_argument("--column", type=int, default=7, help="column of the x[:, c] read (7)")
    parser.add_argument("--row-step", type=int, default=100, help="step of the x[::s, :] read (100)")
    parser.add_argument("--no-sharded", dest="sharded", action="store_false", help="skip the sharded variant")
    parser.add_argument("--shard-rows", type=int, default=16384, help="shard rows (16384: 64 MiB shards)")
    parser.add_argument("--inner", type=int, default=128, help="inner chunks are inner x inner (128: 64 KiB)")
    parser.add_argument("--sharded-phases", default="read,column,rows",
                        help="phases every client runs on nimbus's sharded array (read,column,rows)")
    parser.add_argument("--clients", default="nimbus,tensorstore,zarr-python",
                        help="comma list of nimbus, tensorstore, zarr-python")
    parser.add_argument("--no-raw", dest="raw", action="store_false", help="skip the raw-store run")
    parser.add_argument("--rounds", type=int, default=3,
                        help="bulk reads are repeated this many times, order rotated; median (3)")
    parser.add_argument("--diagnose", action="store_true",
                        help="also run nimbus bulk read with max_in_flight = 2 x concurrency")
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    parser.add_argument("--set", action="append", default=[], help="extra nimbus store setting k=v")
    parser.add_argument("--bin-dir", help="directory holding zarr_io and store_throughput")
    parser.add_argument("--minio", help="MinIO server binary (when NIMBUS_TEST_S3_* is unset)")
    parser.add_argument("--bucket", default="nimbus-bench", help="bucket for a started MinIO")
    parser.add_argument("--json", help="write all results to this JSON file")
    args = parser.parse_args()
    if min(args.concurrency, args.size_gib, args.cols, args.chunk_rows, args.rounds) <= 0:
        parser.error("size, cols, chunk rows, concurrency and rounds must be positive")
    if args.shard_rows % args.inner or args.cols % args.inner:
        parser.error("--shard-rows and --cols must be multiples of --inner")
    row_bytes = args.cols * 4
    args.rows = max(1, round(args.size_gib * (1 << 30) / row_bytes / args.chunk_rows)) * args.chunk_rows
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in clients:
        if c not in ("nimbus", "tensorstore", "zarr-python"):
            parser.error(f"unknown client {c}")

    bin_dir = find_build_bin(args.bin_dir)
    import numpy  # noqa: F401 (fail early)

    notes = []
    # Public Prometheus metrics let the script count the bytes every client moves.
    target, server = s3_target(args.minio, args.bucket, {"MINIO_PROMETHEUS_AUTH_TYPE": "public"})

    prefix = f"zarr-io-{secrets.token_hex(4)}/"
    base = Geometry(args, sharded=False)
    shard = Geometry(args, sharded=True)
    results: dict = {"bulk": {}, "sparse": {"unsharded": {}, "sharded": {}}, "diagnose": {}}
    commands = {}
    started = time.perf_counter()

    def log(msg: str):
        print(f"[{time.perf_counter() - started:7.1f}s] {msg}", file=sys.stderr, flush=True)

    try:
        ensure_bucket(target)
        metrics = Metrics(target.endpoint)
        if not metrics.available:
            notes.append("MinIO metrics not readable: bytes moved are reported for nimbus only")

        if args.raw:
            log(f"raw store: PUT {base.bytes // (base.chunk_rows * base.cols * 4)} objects of the chunk size")
            raw, commands["raw_put"] = run_raw(bin_dir, target, args, prefix, base, "put", keep=True)
            results["bulk"]["raw"] = {"write": raw["put"]}

        objs = {}
        nimbus = Nimbus(bin_dir, target, args, prefix) if "nimbus" in clients else None
        if nimbus:
            objs["nimbus"] = nimbus
        if "tensorstore" in clients:
            objs["tensorstore"] = TensorStoreClient(target, args, prefix)
        if "zarr-python" in clients:
            try:
                objs["zarr-python"] = ZarrPythonClient(target, args, prefix)
            except Exception as e:  # noqa: BLE001
                notes.append(f"zarr-python over obstore unavailable, skipped: {e}")

        def run_phase(name: str, g: Geometry, path: str, phase: str, **kw) -> dict:
            client = objs[name]
            if name == "nimbus":
                return metrics.measure(lambda: client.phase(g, path, phase, **kw))
            return metrics.measure(lambda: py_phase(client, g, path, phase, args.verify))

        for name in objs:
            log(f"{name}: bulk write")
            results["bulk"][name] = {"write": run_phase(name, base, name, "write")}
        # Bulk reads: --rounds rounds, the order rotated each round; the median is reported.
        readers = (["raw"] if args.raw else []) + list(objs)
        rounds: dict = {c: [] for c in readers}
        for rnd in range(args.rounds):
            order = readers[rnd % len(readers):] + readers[: rnd % len(readers)]
            for name in order:
                log(f"{name}: bulk read, round {rnd + 1}/{args.rounds}")
                if name == "raw":
                    last = rnd == args.rounds - 1
                    raw, commands["raw_get"] = run_raw(bin_dir, target, args, prefix, base, "get", keep=not last)
                    rounds["raw"].append(raw["get"])
                else:
                    rounds[name].append(run_phase(name, base, name, "read"))
        for name, runs in rounds.items():
            best = sorted(runs, key=lambda r: r["mb_per_s"])[len(runs) // 2]
            results["bulk"][name]["read"] = dict(best, rounds_mb_per_s=[r["mb_per_s"] for r in runs])
        for name in objs:
            for phase in ("column", "rows"):
                log(f"{name}: sparse {phase}")
                results["sparse"]["unsharded"].setdefault(phase, {})[name] = run_phase(name, base, name, phase)
        if args.diagnose and nimbus:
            log("nimbus: bulk read, max_in_flight = 2 x concurrency")
            results["diagnose"]["read_window_2x"] = run_phase(
                "nimbus", base, "nimbus", "read", window=2 * args.concurrency
            )

        if args.sharded and nimbus:
            log("nimbus: sharded write")
            results["bulk"]["nimbus-sharded"] = {"write": run_phase("nimbus", shard, "sharded", "write")}
            for phase in [p for p in args.sharded_phases.split(",") if p]:
                for name in objs:
                    log(f"{name}: sharded {phase}")
                    r = run_phase(name, shard, "sharded", phase)
                    if phase == "read":
                        results["bulk"].setdefault(f"{name}-sharded", {})["read"] = r
                    else:
                        results["sparse"]["sharded"].setdefault(phase, {})[name] = r
        if metrics.available:
            # Stored sizes, for the compressed minimum.
            results["stored_bytes"] = stored_sizes(target, prefix)
    finally:
        if server is not None:
            server.stop()

    # --- report ---
    out = []
    p = out.append
    size_text = f"{base.bytes / (1 << 30):.2f} GiB"
    p(
        f"zarr_io: float32 ({base.rows}, {base.cols}) = {size_text}, chunks ({base.chunk_rows}, {base.cols}) = "
        f"{base.chunk_rows * base.cols * 4 / (1 << 20):g} MiB, codec {args.codec}, concurrency {args.concurrency}, "
        f"slabs of {base.slab_rows * base.cols * 4 / (1 << 20):g} MiB per call; MB = 10^6 bytes"
    )
    p(f"endpoint {target.endpoint} bucket {target.bucket} ({target.origin}); {platform.node()}, {os.cpu_count()} CPUs")
    versions = package_versions()
    p("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    p("")
    bulk = results["bulk"]

    def mbps(client, phase):
        r = bulk.get(client, {}).get(phase)
        return r["mb_per_s"] if r else None

    p(f"{'bulk':<22} {'write MB/s':>11} {'read MB/s':>11}   (read: median of {args.rounds}; all rounds)")
    for client in ["raw"] + list(objs) + [c for c in bulk if c.endswith("-sharded")]:
        if client in bulk:
            label = "raw store (4 MiB objs)" if client == "raw" else client
            runs = bulk[client].get("read", {}).get("rounds_mb_per_s")
            tail = "   " + " ".join(f"{x:.0f}" for x in runs) if runs and len(runs) > 1 else ""
            p(f"{label:<22} {fmt(mbps(client, 'write')):>11} {fmt(mbps(client, 'read')):>11}{tail}")
    for other in ("raw", "tensorstore", "zarr-python"):
        if other in bulk and "nimbus" in bulk:
            p(
                f"{'nimbus/' + other:<22} {fmt(ratio(mbps('nimbus', 'write'), mbps(other, 'write')), '.2f'):>11} "
                f"{fmt(ratio(mbps('nimbus', 'read'), mbps(other, 'read')), '.2f'):>11}"
            )
    if "read_window_2x" in results["diagnose"]:
        d = results["diagnose"]["read_window_2x"]
        p(f"{'nimbus read, window 2C':<22} {'':>11} {fmt(d['mb_per_s']):>11}")
    if "nimbus" in bulk:
        for phase in ("write", "read"):
            r = bulk["nimbus"][phase]
            p(
                f"  nimbus {phase}: {r['seconds']:.2f} s wall, caller thread CPU {r['caller_cpu_seconds']:.2f} s, "
                f"process CPU {r['process_cpu_seconds']:.2f} s"
            )

    summary_sparse = {}
    for variant, g in (("unsharded", base), ("sharded", shard)):
        table = results["sparse"][variant]
        if not table:
            continue
        p("")
        ur, uc = g.read_unit()
        unit_bytes = ur * uc * 4
        if variant == "sharded":
            p(
                f"sparse reads, sharded (nimbus-written): shards ({g.chunk_rows}, {g.cols}) = "
                f"{g.chunk_rows * g.cols * 4 / (1 << 20):g} MiB, inner chunks ({g.inner}, {g.inner}) = "
                f"{unit_bytes / 1024:g} KiB"
            )
        else:
            p(f"sparse reads, unsharded: chunks ({g.chunk_rows}, {g.cols}) = {unit_bytes / (1 << 20):g} MiB")
        p(
            f"{'selection':<16} {'client':<12} {'seconds':>8} {'MB moved':>10} {'GETs':>6} "
            f"{'/min elems':>11} {'/min chunks':>12} {'nimbus t/x':>11}"
        )
        for phase in ("column", "rows"):
            if phase not in table:
                continue
            sel = f"x[:, {g.column}]" if phase == "column" else f"x[::{g.row_step}, :]"
            min_elems = g.sparse_selected(phase) * 4
            touched, total_units = g.sparse_units(phase)
            stored = results.get("stored_bytes", {})
            if g.codec == "raw":
                min_chunks = touched * unit_bytes
            else:
                # Compressed: the stored bytes of the chunks touched (the array's stored size
                # pro rata; the hash data compresses uniformly).
                arr_stored = stored.get("sharded" if variant == "sharded" else "nimbus")
                min_chunks = arr_stored * touched / total_units if arr_stored else None
            minimum = min_elems if g.codec == "raw" else min_chunks
            by_client = table[phase]
            nim_t = by_client.get("nimbus", {}).get("seconds")
            for client, r in by_client.items():
                moved = r.get("server", {}).get("bytes_sent")
                gets = r.get("server", {}).get("requests", {}).get("GetObject")
                if moved is None and client == "nimbus":
                    moved = r.get("engine_bytes_read")
                r["min_element_bytes"] = min_elems
                r["min_chunk_bytes"] = min_chunks
                r["bytes_over_min"] = ratio(moved, minimum)
                r["bytes_over_min_elements"] = ratio(moved, min_elems)
                r["bytes_over_min_chunks"] = ratio(moved, min_chunks)
                p(
                    f"{sel:<16} {client:<12} {r['seconds']:>8.3f} {fmt(moved / MB if moved is not None else None):>10} "
                    f"{fmt(gets, '.0f'):>6} {fmt(ratio(moved, min_elems), '.1f'):>11} "
                    f"{fmt(ratio(moved, min_chunks), '.2f'):>12} {fmt(ratio(nim_t, r['seconds']), '.2f'):>11}"
                )
                sel = ""
            if "nimbus" in by_client:
                r = by_client["nimbus"]
                p(
                    f"{'':<16} nimbus engine: bytes_read {r['io']['bytes_read'] / MB:.2f} MB in "
                    f"{r['io']['get_requests']} GETs; model before: latency {r['model_before']['latency_ms']:.1f} ms, "
                    f"{r['model_before']['bandwidth_mb_per_s']:.0f} MB/s per stream"
                )
            summary_sparse[f"{variant}/{phase}"] = {
                c: {k: v.get(k) for k in ("seconds", "bytes_over_min", "bytes_over_min_elements", "bytes_over_min_chunks")}
                | {"bytes_moved": v.get("server", {}).get("bytes_sent", v.get("engine_bytes_read"))}
                for c, v in by_client.items()
            }
        p(
            "  /min elems: bytes moved / selected elements' bytes; /min chunks: / bytes of the "
            + ("(inner) chunks" if variant == "sharded" else "chunks")
            + " touched"
            + (" (stored, compressed)" if g.codec != "raw" else "")
            + "; nimbus t/x: nimbus seconds / that client's"
        )

    p("")
    driver = shlex.join([sys.executable] + sys.argv)
    p("driver command:")
    p("  " + driver)
    if nimbus and nimbus.commands:
        p("nimbus commands (credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), e.g.:")
        p("  " + nimbus.commands[0])
    for key in ("raw_put", "raw_get"):
        if key in commands:
            p(f"raw store command ({key[4:].upper()}):")
            p("  " + commands[key])
    for note in notes:
        p("note: " + note)
    print("\n".join(out))

    if args.json:
        summary = {
            "bulk_mb_per_s": {c: {ph: r["mb_per_s"] for ph, r in v.items()} for c, v in bulk.items()},
            "ratios": {
                f"nimbus/{o}": {
                    ph: ratio(mbps("nimbus", ph), mbps(o, ph)) for ph in ("write", "read")
                }
                for o in ("raw", "tensorstore", "zarr-python")
                if o in bulk and "nimbus" in bulk
            },
            "sparse": summary_sparse,
        }
        doc = {
            "config": {k: v for k, v in vars(args).items() if k != "set"} | {"set": args.set},
            "geometry": {
                "shape": [base.rows, base.cols],
                "chunk_shape": [base.chunk_rows, base.cols],
                "shard_shape": [shard.chunk_rows, shard.cols],
                "inner_chunk_shape": [shard.inner, shard.inner],
                "array_bytes": base.bytes,
                "slab_rows": base.slab_rows,
            },
            "endpoint": target.endpoint,
            "origin": target.origin,
            "versions": versions,
            "summary": summary,
            "results": results,
            "driver_command": driver,
            "nimbus_commands": nimbus.commands if nimbus else [],
            "raw_commands": commands,
            "notes": notes,
            "report": out,
        }
        Path(args.json).write_text(json.dumps(doc, indent=2))
        print(f"wrote {args.json}")


def stored_sizes(target: S3Target, prefix: str) -> dict:
    """Total stored bytes under each array's prefix."""
    from store_throughput import make_boto3_client

    client = make_boto3_client(target, 1, checksums=False)
    sizes: dict = {}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=target.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            rest = obj["Key"][len(prefix):]
            name = rest.split("/", 1)[0]
            if rest.endswith("zarr.json"):
                continue
            sizes[name] = sizes.get(name, 0) + obj["Size"]
    return sizes


def package_versions() -> dict:
    from importlib import metadata

    out = {"python": platform.python_version()}
    for pkg in ("numpy", "tensorstore", "zarr", "obstore"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


if __name__ == "__main__":
    main()
