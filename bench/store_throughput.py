#!/usr/bin/env python3
"""PUT/GET throughput of nimbus's S3 client against boto3, on the same objects and endpoint.

Runs bench/store_throughput (C++, our ObjectStore over our HTTP client) and boto3 (a
ThreadPoolExecutor with the same concurrency and max_pool_connections) on the same keys and
sizes, alternating which goes first each round, and prints the median MB/s (10^6 bytes/s) of
each, the ratio ours/boto3, and the exact command line of our client.

The endpoint is NIMBUS_TEST_S3_ENDPOINT/_BUCKET/_ACCESS_KEY/_SECRET_KEY/_REGION when set;
otherwise a MinIO server is started on a free loopback port with a temporary data directory
(binary: --minio, ~/.cache/nimbus/minio-*/bin/minio, /tmp/minio-try/minio, or minio on PATH)
and stopped at the end.

This is a benchmark, not a test: nothing in ctest or pytest runs it.

    python3 bench/store_throughput.py                          # 64 x 16 MiB, concurrency 8
    python3 bench/store_throughput.py --objects 16 --size 64M --concurrency 4 --rounds 5
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import secrets
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class S3Target:
    endpoint: str  # http://host:port
    bucket: str
    access_key: str
    secret_key: str
    region: str
    origin: str  # where it came from, for the report


def parse_size(text: str) -> int:
    """'16M', '512K', '1G', '1048576' (binary multiples; 'MiB' also accepted)."""
    value = text.strip()
    if value.endswith("iB"):
        value = value[:-2]
    multiplier = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(value[-1:].upper(), 1)
    if multiplier != 1:
        value = value[:-1]
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"bad size '{text}'")
    return int(value) * multiplier


def format_size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift and n % (1 << shift) == 0:
            return f"{n >> shift} {unit}"
    return f"{n} B"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(explicit: Optional[str]) -> Path:
    if explicit:
        # An explicit choice is never silently replaced by another build's binary.
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return Path(explicit).resolve()
        sys.exit(f"--binary {explicit}: no executable there")
    candidates = []
    if os.environ.get("NIMBUS_BUILD_DIR"):
        candidates.append(Path(os.environ["NIMBUS_BUILD_DIR"]) / "bin" / "store_throughput")
    for preset in ("release", "dev"):
        candidates.append(REPO_ROOT / "build" / preset / "bin" / "store_throughput")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate.resolve()
    sys.exit(
        "store_throughput binary not found (tried "
        + ", ".join(str(c) for c in candidates)
        + "); build it (ninja store_throughput) or pass --binary"
    )


def find_minio(explicit: Optional[str]) -> str:
    if explicit:
        return explicit
    cache = Path(os.environ.get("NIMBUS_CACHE", Path.home() / ".cache" / "nimbus"))
    found = sorted(cache.glob("minio-*/bin/minio"), reverse=True)
    found += [p for p in [Path("/tmp/minio-try/minio")] if p.is_file()]
    if found:
        return str(found[0])
    on_path = shutil.which("minio")
    if on_path:
        return on_path
    sys.exit("no MinIO binary: run scripts/bootstrap, pass --minio, or set NIMBUS_TEST_S3_*")


class MinioServer:
    """A throwaway MinIO on a free loopback port."""

    def __init__(self, binary: str):
        self.binary = binary
        self.port = free_port()
        self.data_dir = tempfile.mkdtemp(prefix="nimbus-bench-minio-")
        self.access_key = "bench" + secrets.token_hex(4)
        self.secret_key = secrets.token_hex(16)
        self.process: Optional[subprocess.Popen] = None
        self.log = tempfile.TemporaryFile()

    def start(self, timeout: float = 30.0):
        env = dict(
            os.environ,
            MINIO_ROOT_USER=self.access_key,
            MINIO_ROOT_PASSWORD=self.secret_key,
            MINIO_BROWSER="off",
        )
        self.process = subprocess.Popen(
            [
                self.binary,
                "server",
                "--quiet",
                "--address",
                f"127.0.0.1:{self.port}",
                "--console-address",
                f"127.0.0.1:{free_port()}",
                self.data_dir,
            ],
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                sys.exit(f"MinIO exited: {self.log.read().decode(errors='replace')}")
            try:
                url = f"http://127.0.0.1:{self.port}/minio/health/live"
                with urllib.request.urlopen(url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit("MinIO did not become ready")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log.close()


def s3_target(minio: Optional[str], bucket: str, extra_env: Optional[dict] = None):
    """The S3 server to measure: the one NIMBUS_TEST_S3_* describes (as in `make test`), else a
    MinIO started here on a free loopback port. Returns (target, server or None)."""
    env_keys = ["ENDPOINT", "BUCKET", "ACCESS_KEY", "SECRET_KEY"]
    if all(os.environ.get(f"NIMBUS_TEST_S3_{k}") for k in env_keys):
        return S3Target(
            endpoint=os.environ["NIMBUS_TEST_S3_ENDPOINT"],
            bucket=os.environ["NIMBUS_TEST_S3_BUCKET"],
            access_key=os.environ["NIMBUS_TEST_S3_ACCESS_KEY"],
            secret_key=os.environ["NIMBUS_TEST_S3_SECRET_KEY"],
            region=os.environ.get("NIMBUS_TEST_S3_REGION") or "us-east-1",
            origin="NIMBUS_TEST_S3_*",
        ), None
    os.environ.update(extra_env or {})  # inherited by the server
    server = MinioServer(find_minio(minio))
    server.start()
    return S3Target(
        endpoint=f"http://127.0.0.1:{server.port}",
        bucket=bucket,
        access_key=server.access_key,
        secret_key=server.secret_key,
        region="us-east-1",
        origin=f"MinIO started by this script ({server.binary})",
    ), server


def make_boto3_client(target: S3Target, concurrency: int, checksums: bool):
    import boto3
    from botocore.config import Config

    extra = {}
    if not checksums:
        # Our client sends UNSIGNED-PAYLOAD and no checksum; ask boto3 for the same where it can.
        extra = dict(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
    config = Config(
        max_pool_connections=concurrency,
        retries={"mode": "standard", "max_attempts": 5},
        s3={"addressing_style": "path"},
        **extra,
    )
    return boto3.client(
        "s3",
        endpoint_url=target.endpoint,
        aws_access_key_id=target.access_key,
        aws_secret_access_key=target.secret_key,
        region_name=target.region,
        config=config,
    )


def ensure_bucket(target: S3Target):
    client = make_boto3_client(target, 1, checksums=False)
    try:
        client.head_bucket(Bucket=target.bucket)
    except Exception:  # noqa: BLE001 (botocore raises several kinds for a missing bucket)
        client.create_bucket(Bucket=target.bucket)


def key_of(prefix: str, index: int) -> str:
    return f"{prefix}obj-{index:06d}"


def run_boto3(target: S3Target, args, key_prefix: str) -> dict:
    client = make_boto3_client(target, args.concurrency, args.boto3_checksums)
    pattern = os.urandom(args.size)
    tail = memoryview(pattern)[8:]

    def put(i: int):
        # One copy per object, as our client makes (a distinct payload per object).
        body = i.to_bytes(8, "little") + pattern[8:]
        client.put_object(Bucket=target.bucket, Key=key_of(key_prefix, i), Body=body)

    def get(i: int):
        data = client.get_object(Bucket=target.bucket, Key=key_of(key_prefix, i))["Body"].read()
        if len(data) != args.size or data[:8] != i.to_bytes(8, "little")[: len(data)]:
            raise RuntimeError(f"boto3 read back wrong bytes for {key_of(key_prefix, i)}")
        if args.verify and memoryview(data)[8:] != tail:
            raise RuntimeError(f"boto3 read back wrong bytes for {key_of(key_prefix, i)}")

    result = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        for phase, fn in (("put", put), ("get", get)):
            start = time.perf_counter()
            list(pool.map(fn, range(args.objects)))
            seconds = time.perf_counter() - start
            mb_per_s = args.objects * args.size / seconds / 1e6
            result[phase] = {"seconds": seconds, "mb_per_s": mb_per_s}
    keys = [{"Key": key_of(key_prefix, i)} for i in range(args.objects)]
    for start in range(0, len(keys), 1000):
        client.delete_objects(Bucket=target.bucket, Delete={"Objects": keys[start : start + 1000]})
    return result


def nimbus_command(binary: Path, target: S3Target, args, key_prefix: str) -> list[str]:
    command = [
        str(binary),
        "--url",
        f"s3://{target.bucket}",
        "--set",
        f"endpoint={target.endpoint},region={target.region}",
        "--objects",
        str(args.objects),
        "--size",
        str(args.size),
        "--concurrency",
        str(args.concurrency),
        "--key-prefix",
        key_prefix,
    ]
    for setting in args.set:
        command += ["--set", setting]
    if not args.verify:
        command.append("--no-verify")
    return command


def nimbus_env(target: S3Target) -> dict:
    # Credentials travel in the environment so the printed command line carries no secret.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_ACCESS_KEY_ID"] = target.access_key
    env["AWS_SECRET_ACCESS_KEY"] = target.secret_key
    return env


def run_nimbus(command: list[str], env: dict) -> dict:
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=3600)
    if completed.returncode != 0:
        sys.exit(f"store_throughput failed ({completed.returncode}): {completed.stderr.strip()}")
    return json.loads(completed.stdout)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=64, help="objects per round (64)")
    parser.add_argument("--size", type=parse_size, default=16 << 20, help="object size (16M)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (8)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; the median is reported (3)")
    parser.add_argument("--set", action="append", default=[], help="extra nimbus setting k=v")
    parser.add_argument("--binary", help="store_throughput executable")
    parser.add_argument("--minio", help="MinIO server binary (when NIMBUS_TEST_S3_* is unset)")
    parser.add_argument("--bucket", default="nimbus-bench", help="bucket for a started MinIO")
    parser.add_argument(
        "--boto3-checksums",
        action="store_true",
        help="leave boto3's default CRC checksums on (default: only when required, like ours)",
    )
    parser.add_argument("--no-verify", dest="verify", action="store_false",
                        help="skip full content checks of the bytes read back")
    parser.add_argument("--json", action="store_true", help="also print all results as JSON")
    args = parser.parse_args()
    if args.objects <= 0 or args.concurrency <= 0 or args.rounds <= 0 or args.size < 8:
        parser.error("objects, concurrency and rounds must be positive, size at least 8 bytes")

    binary = find_binary(args.binary)
    import boto3  # here, so a missing boto3 fails before any server starts

    target, server = s3_target(args.minio, args.bucket)

    try:
        ensure_bucket(target)
        key_prefix = f"bench/throughput-{secrets.token_hex(4)}/"
        command = nimbus_command(binary, target, args, key_prefix)
        env = nimbus_env(target)
        rounds = []
        for round_index in range(args.rounds):
            order = ["nimbus", "boto3"] if round_index % 2 == 0 else ["boto3", "nimbus"]
            results = {}
            for client in order:
                if client == "nimbus":
                    results[client] = run_nimbus(command, env)
                else:
                    results[client] = run_boto3(target, args, key_prefix)
            rounds.append(results)
            rates = [
                f"{c} PUT {results[c]['put']['mb_per_s']:.0f} "
                f"GET {results[c]['get']['mb_per_s']:.0f}"
                for c in ("nimbus", "boto3")
            ]
            print(
                f"round {round_index + 1}/{args.rounds}: " + ", ".join(rates) + " MB/s",
                file=sys.stderr,
                flush=True,
            )
    finally:
        if server is not None:
            server.stop()

    print()
    print(
        f"store_throughput: {args.objects} objects x {format_size(args.size)}, "
        f"concurrency {args.concurrency}, median of {args.rounds} round(s); "
        f"MB = 10^6 bytes; boto3 {boto3.__version__}"
        + (" with default checksums" if args.boto3_checksums else " without optional checksums")
    )
    print(f"endpoint {target.endpoint} bucket {target.bucket} ({target.origin})")
    print()
    print(f"{'op':<4} {'nimbus MB/s':>12} {'boto3 MB/s':>12} {'nimbus/boto3':>13}")
    summary = {}
    for phase in ("put", "get"):
        ours = statistics.median(r["nimbus"][phase]["mb_per_s"] for r in rounds)
        theirs = statistics.median(r["boto3"][phase]["mb_per_s"] for r in rounds)
        summary[phase] = {"nimbus_mb_per_s": ours, "boto3_mb_per_s": theirs, "ratio": ours / theirs}
        print(f"{phase.upper():<4} {ours:>12.1f} {theirs:>12.1f} {ours / theirs:>13.2f}")
    print()
    print("nimbus command (credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):")
    print("  " + shlex.join(command))
    print("driver command:")
    print("  " + shlex.join([sys.executable] + sys.argv))
    if args.json:
        print(json.dumps({"summary": summary, "rounds": rounds}, indent=2))


if __name__ == "__main__":
    main()
