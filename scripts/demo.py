"""The nimbus demo: HDF5/Zarr data on object storage, written and read back through nimbus.

Starts MinIO on a free 127.0.0.1 port with a temporary data directory (or, with --local DIR, uses
a directory), then:
  1. h5py, unchanged, through the nimbus VOL connector (when the plugin is built): creates a file
     with groups, datasets and attributes, reads slices back;
  2. the Zarr engine from Python (nimbus.zarr): a 2-D array written and read with strided slices;
  3. zarr-python reads what nimbus wrote, and shows what is on the store.
Run it through `make demo` (or scripts/demo), which sets up the environment first.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python"))

ACCESS_KEY, SECRET_KEY, BUCKET = "nimbus-demo", "nimbus-demo-secret", "demo"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Minio:
    """A MinIO server for the demo's lifetime: its own data dir, loopback only, stopped on exit."""

    def __init__(self) -> None:
        binary = os.environ.get("NIMBUS_MINIO") or shutil.which("minio")
        if not binary:
            sys.exit("demo: no MinIO binary (run scripts/bootstrap, or use --local DIR)")
        self.dir = tempfile.mkdtemp(prefix="nimbus-demo-minio-")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, MINIO_ROOT_USER=ACCESS_KEY, MINIO_ROOT_PASSWORD=SECRET_KEY)
        self.proc = subprocess.Popen(
            [binary, "server", self.dir, "--quiet", "--address", f"127.0.0.1:{self.port}",
             "--console-address", f"127.0.0.1:{free_port()}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint}/minio/health/live", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        sys.exit("demo: MinIO did not start within 30 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def say(text: str) -> None:
    print(textwrap.dedent(text).strip("\n"), flush=True)


def h5py_part(env: dict, file_name: str) -> bool:
    """h5py through the VOL connector, in a child process: the connector is chosen at import."""
    plugin_dir = Path(os.environ.get("HDF5_PLUGIN_PATH", ROOT / "build/dev/plugins"))
    if not any(plugin_dir.glob("libnimbus_vol*.so")):
        say(f"[1] h5py through nimbus: skipped (no VOL plugin in {plugin_dir} yet)")
        return False
    code = textwrap.dedent(f"""
        import nimbus  # routes h5py's group iteration (keys(), visit) for nimbus files
        import h5py, numpy as np
        with h5py.File({file_name!r}, "w") as f:
            f.attrs["experiment"] = "nimbus demo"
            g = f.create_group("run1")
            t = g.create_dataset("temperature", shape=(1000, 360), dtype="f4", chunks=(100, 360))
            t[...] = np.arange(1000 * 360, dtype="f4").reshape(1000, 360) / 10
            t.attrs["units"] = "K"
            g.create_dataset("ids", data=np.arange(50, dtype="i8"))
        with h5py.File({file_name!r}, "r") as f:
            t = f["run1/temperature"]
            print("    file:", {file_name!r}, "| groups:", list(f.keys()), "| run1:", list(f["run1"].keys()),
                  "| experiment =", f.attrs["experiment"])
            print("    temperature", t.shape, t.dtype, "units", t.attrs["units"])
            print("    temperature[10, :5]      =", t[10, :5])
            print("    temperature[::250, 100]  =", t[::250, 100])
            print("    ids[-3:]                 =", f["run1/ids"][-3:])
    """)
    say("[1] h5py through the nimbus VOL connector (HDF5_VOL_CONNECTOR=nimbus)")
    env = dict(env, PYTHONPATH=str(ROOT / "python") + os.pathsep + env.get("PYTHONPATH", ""))
    result = subprocess.run([sys.executable, "-c", code], env=env)
    if result.returncode != 0:
        say("    h5py part FAILED (see the error above)")
    return result.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--local", metavar="DIR", help="use a local directory instead of MinIO")
    args = parser.parse_args()

    import nimbus.zarr as nz

    server = None
    try:
        if args.local:
            root = Path(args.local).resolve()
            root.mkdir(parents=True, exist_ok=True)
            url, settings = f"file://{root}", {}
            vol_env = dict(os.environ, HDF5_VOL_CONNECTOR="nimbus", STORAGE_PLATFORM="File",
                           BUCKET_NAME=str(root))
            say(f"nimbus demo on the local directory {root}")
        else:
            server = Minio()
            import boto3
            s3 = boto3.client("s3", endpoint_url=server.endpoint, aws_access_key_id=ACCESS_KEY,
                              aws_secret_access_key=SECRET_KEY, region_name="us-east-1")
            s3.create_bucket(Bucket=BUCKET)
            url = f"s3://{BUCKET}"
            settings = dict(endpoint=server.endpoint, access_key_id=ACCESS_KEY,
                            secret_access_key=SECRET_KEY, region="us-east-1", addressing="path")
            # The seed's variables: what an ArrayMorph/h5py user already sets.
            vol_env = dict(os.environ, HDF5_VOL_CONNECTOR="nimbus", STORAGE_PLATFORM="S3",
                           BUCKET_NAME=BUCKET, AWS_ENDPOINT_URL_S3=server.endpoint,
                           AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                           AWS_REGION="us-east-1", AWS_S3_ADDRESSING_STYLE="path")
            say(f"nimbus demo on MinIO at {server.endpoint}, bucket '{BUCKET}'")

        h5py_ok = h5py_part(vol_env, "climate.h5")

        say("[2] the Zarr engine from Python (nimbus.zarr)")
        a = nz.create_array(url, "arrays/heights", shape=(2000, 1500), dtype="float32",
                            chunks=(500, 500), **settings)
        data = np.fromfunction(lambda i, j: np.sin(i / 100) * np.cos(j / 100), (2000, 1500),
                               dtype="float32")
        start = time.monotonic()
        a[...] = data
        wrote = time.monotonic() - start
        b = nz.open_array(url, "arrays/heights", **settings)
        start = time.monotonic()
        sub = b[100:1900:300, ::250]
        read = time.monotonic() - start
        assert np.array_equal(sub, data[100:1900:300, ::250])
        codec = b.metadata["codecs"][-1]["name"]
        say(f"    wrote {data.nbytes / 1e6:.1f} MB in {wrote:.2f} s as {codec}-compressed 500x500 chunks "
            f"({a.stats()['put_requests']} PUTs, {a.stats()['bytes_written'] / 1e6:.1f} MB on the wire)")
        say(f"    read heights[100:1900:300, ::250] -> shape {sub.shape} in {read * 1000:.1f} ms "
            f"({b.stats()['get_requests']} GETs); equal to the source")

        say("[3] zarr-python reads what nimbus wrote")
        import zarr
        if args.local:
            zstore = zarr.storage.LocalStore(root)
        else:
            import obstore.store
            zstore = zarr.storage.ObjectStore(obstore.store.S3Store(
                BUCKET, endpoint=server.endpoint, region="us-east-1", access_key_id=ACCESS_KEY,
                secret_access_key=SECRET_KEY, client_options={"allow_http": True}))
        z = zarr.open_array(zstore, path="arrays/heights", mode="r")
        same = np.array_equal(z[...], data)
        say(f"    zarr {zarr.__version__}: shape {z.shape}, chunks {z.chunks}, identical values: {same}")
        if h5py_ok:
            t = zarr.open_array(zstore, path="climate.h5/run1/temperature", mode="r")
            say(f"    ...and the HDF5 dataset h5py wrote: climate.h5/run1/temperature {t.shape} {t.dtype}, "
                f"t[10, :3] = {t[10, :3]}")
        if args.local:
            keys = sorted(str(p.relative_to(root)) for p in (root / "arrays/heights").rglob("*") if p.is_file())
        else:
            listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="arrays/heights/")
            keys = sorted(o["Key"] for o in listed.get("Contents", []))
        say(f"    {len(keys)} objects under arrays/heights, e.g. " + ", ".join(keys[:4]))
        return 0 if same else 1
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
