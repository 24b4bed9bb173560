#!/usr/bin/env python3
"""h5py through the nimbus VOL connector against the raw store, TensorStore and zarr-python.

One run, one MinIO, one array: a float32 dataset of --size-gib shaped (rows, --cols) with chunks
(--chunk-rows, --cols) (4 MiB by default), stored uncompressed (--codec raw) or with zstd. Every
client writes and reads its own copy of identical values; the numbers are comparable because the
geometry, the data, the endpoint and the requests in flight (--concurrency) are the same:

- h5py: stock h5py (built against the HDF5 the connector uses), HDF5_VOL_CONNECTOR =
  "nimbus store=s3://...;max_connections=C", `dset[r0:r1, :] = slab` / `dset[r0:r1, :]`, run in a
  child process because HDF5 reads the connector setting once, when it initialises;
- raw store: bench/store_throughput PUT/GET of as many chunk-sized objects (the limit of the store
  and client on this machine, issue #2);
- TensorStore (zarr3 driver, s3 kvstore) and zarr-python 3 (obstore) on the equivalent Zarr array.

Phases: bulk write, bulk read (median of --rounds, order rotated), and the sparse reads x[:, c] and
x[::s, :]. Values are checked (8 rows per slab on bulk reads, every element on sparse reads);
timing covers the library calls only. Bytes each client moved come from MinIO's metrics when the
server was started here.

This is a benchmark, not a test: nothing in ctest or pytest runs it.

    python bench/h5py_io.py --size-gib 0.5        # quick
    python bench/h5py_io.py --json /tmp/h5py_io.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from store_throughput import S3Target, ensure_bucket, nimbus_env, s3_target  # noqa: E402
from zarr_io import (  # noqa: E402 (the Zarr clients, data and checks of the Zarr bench)
    Geometry,
    Metrics,
    NumpyIndexedClient,
    TensorStoreClient,
    ZarrPythonClient,
    find_build_bin,
    fmt,
    package_versions,
    py_phase,
    ratio,
    run_raw,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


# --- h5py client (runs in the child process) --------------------------------------------------


class H5pyClient(NumpyIndexedClient):
    """The zarr_io client interface on an h5py file opened through the nimbus connector."""

    name = "h5py"

    def __init__(self):
        import h5py

        self.h5py = h5py
        self.files = []

    def open(self, g: Geometry, path: str, create: bool):
        f = self.h5py.File(f"{path}.h5", "w" if create else "r")
        self.files.append(f)
        if not create:
            return f["x"]
        kwargs = {}
        if g.codec == "zstd":
            kwargs = dict(compression=32015, compression_opts=(g.zstd_level,))
        return f.create_dataset("x", shape=(g.rows, g.cols), dtype="float32",
                                chunks=(g.chunk_rows, g.cols), fillvalue=0.0, **kwargs)

    def close(self):
        for f in self.files:
            f.close()
        self.files = []


def child_main(spec: dict) -> None:
    class Args:  # the attributes Geometry reads
        pass

    args = Args()
    args.__dict__.update(spec["geometry"])
    g = Geometry(args, sharded=False)
    client = H5pyClient()
    result = py_phase(client, g, spec["path"], spec["phase"], spec["verify"])
    # A write is complete when the file is closed: its close counts, like TensorStore's result().
    t0 = time.perf_counter()
    client.close()
    result["seconds"] += time.perf_counter() - t0
    result["mb_per_s"] = result["bytes"] / result["seconds"] / 1e6
    json.dump(result, sys.stdout)


class H5pyNimbus:
    """Runs each phase in a child process with the connector configured for the target."""

    name = "h5py"

    def __init__(self, plugin_dir: Path, target: S3Target, args, prefix: str):
        self.env = nimbus_env(target)
        connector = (
            f"nimbus store=s3://{target.bucket}/{prefix.rstrip('/')};endpoint={target.endpoint};"
            f"region={target.region};addressing=path;max_connections={args.concurrency}"
        )
        self.env.update(HDF5_VOL_CONNECTOR=connector, HDF5_PLUGIN_PATH=str(plugin_dir))
        self.geometry = {k: getattr(args, k) for k in (
            "cols", "rows", "chunk_rows", "shard_rows", "inner", "codec", "zstd_level", "column",
            "row_step", "slab_mib")}
        self.verify = args.verify
        self.commands = [f"HDF5_VOL_CONNECTOR='{connector}' HDF5_PLUGIN_PATH={plugin_dir}"]

    def phase(self, path: str, phase: str) -> dict:
        spec = dict(geometry=self.geometry, path=path, phase=phase, verify=self.verify)
        done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=self.env,
                              capture_output=True, text=True, timeout=7200)
        if done.returncode != 0:
            raise RuntimeError(f"h5py {phase} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")
        return json.loads(done.stdout)


# --- driver ----------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--size-gib", type=float, default=1.0, help="dataset size in GiB (1)")
    parser.add_argument("--cols", type=int, default=1024, help="columns; a chunk spans all (1024)")
    parser.add_argument("--chunk-rows", type=int, default=1024, help="chunk rows (1024: 4 MiB chunks)")
    parser.add_argument("--codec", choices=["raw", "zstd"], default="raw")
    parser.add_argument("--zstd-level", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight, every client (8)")
    parser.add_argument("--slab-mib", type=float, default=256, help="MiB per bulk read/write call (256)")
    parser.add_argument("--column", type=int, default=7)
    parser.add_argument("--row-step", type=int, default=100)
    parser.add_argument("--clients", default="h5py,tensorstore,zarr-python")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-verify", dest="verify", action="store_false")
    parser.add_argument("--set", action="append", default=[], help="extra store setting for the raw run")
    parser.add_argument("--bin-dir", help="directory holding zarr_io and store_throughput (plugins beside it)")
    parser.add_argument("--minio", help="MinIO server binary (when NIMBUS_TEST_S3_* is unset)")
    parser.add_argument("--bucket", default="nimbus-bench")
    parser.add_argument("--json", help="write all results to this JSON file")
    args = parser.parse_args()
    if args.child:
        child_main(json.loads(args.child))
        return
    if min(args.concurrency, args.size_gib, args.cols, args.chunk_rows, args.rounds) <= 0:
        parser.error("size, cols, chunk rows, concurrency and rounds must be positive")
    args.rows = max(1, round(args.size_gib * (1 << 30) / (args.cols * 4) / args.chunk_rows)) * args.chunk_rows
    args.shard_rows, args.inner = args.chunk_rows, args.cols  # unused: no sharded variant here
    clients = [c.strip() for c in args.clients.split(",") if c.strip()]
    for c in clients:
        if c not in ("h5py", "tensorstore", "zarr-python"):
            parser.error(f"unknown client {c}")
    bin_dir = find_build_bin(args.bin_dir)
    plugin_dir = bin_dir.parent / "plugins"
    if not (plugin_dir / "libnimbus_vol.so").is_file():
        sys.exit(f"{plugin_dir}/libnimbus_vol.so not found; build the nimbus_vol target")

    target, server = s3_target(args.minio, args.bucket, {"MINIO_PROMETHEUS_AUTH_TYPE": "public"})
    prefix = f"h5py-io-{secrets.token_hex(4)}/"
    g = Geometry(args, sharded=False)
    results: dict = {"bulk": {}, "sparse": {}}
    started = time.perf_counter()
    notes = []

    def log(msg: str):
        print(f"[{time.perf_counter() - started:7.1f}s] {msg}", file=sys.stderr, flush=True)

    objs: dict = {}
    try:
        ensure_bucket(target)
        metrics = Metrics(target.endpoint)
        log(f"raw store: PUT {g.bytes // (g.chunk_rows * g.cols * 4)} objects of the chunk size")
        raw, raw_put_cmd = run_raw(bin_dir, target, args, prefix, g, "put", keep=True)
        results["bulk"]["raw"] = {"write": raw["put"]}
        if "h5py" in clients:
            objs["h5py"] = H5pyNimbus(plugin_dir, target, args, prefix)
        if "tensorstore" in clients:
            objs["tensorstore"] = TensorStoreClient(target, args, prefix)
        if "zarr-python" in clients:
            try:
                objs["zarr-python"] = ZarrPythonClient(target, args, prefix)
            except Exception as e:  # noqa: BLE001
                notes.append(f"zarr-python over obstore unavailable, skipped: {e}")

        def run_phase(name: str, phase: str) -> dict:
            client = objs[name]
            if name == "h5py":
                return metrics.measure(lambda: client.phase(name, phase))
            return metrics.measure(lambda: py_phase(client, g, name, phase, args.verify))

        for name in objs:
            log(f"{name}: bulk write")
            results["bulk"][name] = {"write": run_phase(name, "write")}
        readers = ["raw"] + list(objs)
        rounds: dict = {c: [] for c in readers}
        for rnd in range(args.rounds):
            order = readers[rnd % len(readers):] + readers[: rnd % len(readers)]
            for name in order:
                log(f"{name}: bulk read, round {rnd + 1}/{args.rounds}")
                if name == "raw":
                    last = rnd == args.rounds - 1
                    raw, raw_get_cmd = run_raw(bin_dir, target, args, prefix, g, "get", keep=not last)
                    rounds["raw"].append(raw["get"])
                else:
                    rounds[name].append(run_phase(name, "read"))
        for name, runs in rounds.items():
            best = sorted(runs, key=lambda r: r["mb_per_s"])[len(runs) // 2]
            results["bulk"][name]["read"] = dict(best, rounds_mb_per_s=[r["mb_per_s"] for r in runs])
        for name in objs:
            for phase in ("column", "rows"):
                log(f"{name}: sparse {phase}")
                results["sparse"].setdefault(phase, {})[name] = run_phase(name, phase)
    finally:
        if server is not None:
            server.stop()

    out = []
    p = out.append
    p(
        f"h5py_io: float32 ({g.rows}, {g.cols}) = {g.bytes / (1 << 30):.2f} GiB, chunks ({g.chunk_rows}, "
        f"{g.cols}) = {g.chunk_rows * g.cols * 4 / (1 << 20):g} MiB, codec {args.codec}, concurrency "
        f"{args.concurrency}, {g.slab_rows * g.cols * 4 / (1 << 20):g} MiB per call; MB = 10^6 bytes"
    )
    p(f"endpoint {target.endpoint} ({target.origin}); {platform.node()}, {os.cpu_count()} CPUs")
    p("versions: " + ", ".join(f"{k} {v}" for k, v in package_versions().items()))
    p("")
    bulk = results["bulk"]

    def mbps(client, phase):
        r = bulk.get(client, {}).get(phase)
        return r["mb_per_s"] if r else None

    p(f"{'bulk':<22} {'write MB/s':>11} {'read MB/s':>11}   (read: median of {args.rounds})")
    for client in ["raw"] + list(objs):
        label = "raw store (chunk objs)" if client == "raw" else client
        p(f"{label:<22} {fmt(mbps(client, 'write')):>11} {fmt(mbps(client, 'read')):>11}")
    for other in ["raw"] + [c for c in objs if c != "h5py"]:
        if "h5py" in bulk:
            p(
                f"{'h5py/' + other:<22} {fmt(ratio(mbps('h5py', 'write'), mbps(other, 'write')), '.2f'):>11} "
                f"{fmt(ratio(mbps('h5py', 'read'), mbps(other, 'read')), '.2f'):>11}"
            )
    p("")
    p(f"{'sparse':<22} {'x[:, c] s':>11} {'x[::s, :] s':>11} {'MB moved (col, rows)':>24}")
    for name in objs:
        col = results["sparse"]["column"][name]
        rows = results["sparse"]["rows"][name]
        moved = [r.get("server", {}).get("bytes_sent") for r in (col, rows)]
        moved_text = ", ".join("-" if m is None else f"{m / 1e6:.1f}" for m in moved)
        p(f"{name:<22} {col['seconds']:>11.3f} {rows['seconds']:>11.3f} {moved_text:>24}")
    for other in [c for c in objs if c != "h5py"]:
        if "h5py" in objs:
            rc = ratio(results["sparse"]["column"][other]["seconds"], results["sparse"]["column"]["h5py"]["seconds"])
            rr = ratio(results["sparse"]["rows"][other]["seconds"], results["sparse"]["rows"]["h5py"]["seconds"])
            p(f"{'speed h5py/' + other:<22} {fmt(rc, '.2f'):>11} {fmt(rr, '.2f'):>11}")
    for n in notes:
        p(f"note: {n}")
    p("")
    p(f"raw store commands: {raw_put_cmd} ; {raw_get_cmd}")
    if "h5py" in objs:
        p(f"h5py environment: {objs['h5py'].commands[0]}")
    print("\n".join(out))
    if args.json:
        Path(args.json).write_text(json.dumps(dict(args=vars(args), results=results, notes=notes), indent=2))


if __name__ == "__main__":
    main()
