#!/usr/bin/env python3
"""Benchmark: the pyvol bridge (a Python connector) against nimbus's own connector.

Both run the same workloads on in-process memory: pyvol with examples/pyvol/in_memory.py, nimbus
on the memory store (`nimbus store=memory://bench`).

  per-call overhead   a C program (compiled here against the project's HDF5) times single-element
                      H5Dread and H5Dwrite calls and an H5Lexists, median of 5 runs of N calls;
                      the same loop from h5py (d[i]) is reported too.
  read throughput     h5py reads a --size-mib float64 dataset into a preallocated array
                      (read_direct), best of 5.

    python3 bench/pyvol.py [--build-dir build/release] [--calls 20000] [--size-mib 256]

Prints one table with µs per call, GB/s and the pyvol/nimbus ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

C_CALLS = r'''
#define _POSIX_C_SOURCE 199309L  /* clock_gettime under -std=c11 */
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

int main(int argc, char** argv) {
  int n = argc > 1 ? atoi(argv[1]) : 10000;
  hid_t f = H5Fcreate("calls.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[1] = {1024};
  hid_t space = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(f, "d", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0 || d < 0) return 1;
  double init[1024];
  for (int i = 0; i < 1024; ++i) init[i] = i;
  if (H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, init) < 0) return 2;
  hsize_t one[1] = {1};
  hid_t mem = H5Screate_simple(1, one, NULL);
  double runs[3][5];
  for (int r = 0; r < 5; ++r) {
    double v = 0, t0 = now();
    for (int i = 0; i < n; ++i) {
      hsize_t start[1] = {(hsize_t)(i % 1024)};
      H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, one, NULL);
      if (H5Dread(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &v) < 0) return 3;
    }
    runs[0][r] = (now() - t0) / n * 1e6;
    t0 = now();
    for (int i = 0; i < n; ++i) {
      hsize_t start[1] = {(hsize_t)(i % 1024)};
      H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, one, NULL);
      v = i;
      if (H5Dwrite(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, &v) < 0) return 4;
    }
    runs[1][r] = (now() - t0) / n * 1e6;
    t0 = now();
    for (int i = 0; i < n; ++i) {
      if (H5Lexists(f, "d", H5P_DEFAULT) <= 0) return 5;
    }
    runs[2][r] = (now() - t0) / n * 1e6;
  }
  for (int k = 0; k < 3; ++k) qsort(runs[k], 5, sizeof(double), cmp);
  printf("{\"read_us\": %.3f, \"write_us\": %.3f, \"exists_us\": %.3f}\n", runs[0][2], runs[1][2], runs[2][2]);
  H5Sclose(mem); H5Dclose(d); H5Sclose(space); H5Fclose(f);
  return 0;
}
'''

H5PY_BENCH = r'''
import json, sys, time
import numpy as np
import h5py
calls, size_mib = int(sys.argv[1]), int(sys.argv[2])
n = size_mib * (1 << 20) // 8
with h5py.File("tp.h5", "w") as f:
    small = f.create_dataset("small", data=np.arange(1024.0))
    t = []
    for _ in range(5):
        t0 = time.perf_counter()
        for i in range(calls // 4):
            small[i % 1024]
        t.append((time.perf_counter() - t0) / (calls // 4) * 1e6)
    h5py_read_us = sorted(t)[2]
    big = f.create_dataset("big", shape=(n,), dtype="f8", chunks=(min(n, 1 << 20),))
    block = 1 << 22
    for start in range(0, n, block):
        big[start:start + block] = np.arange(start, min(n, start + block), dtype="f8")
    out = np.empty(n, dtype="f8")
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        big.read_direct(out)
        best = min(best, time.perf_counter() - t0)
    assert out[12345] == 12345.0 and out[-1] == n - 1
print(json.dumps({"h5py_read_us": h5py_read_us, "read_gbps": n * 8 / best / 1e9}))
'''


def compile_calls(work: Path, hdf5: Path) -> Path:
    src = work / "calls.c"
    src.write_text(C_CALLS)
    exe = work / "calls"
    cc = shutil.which("cc") or shutil.which("gcc")
    subprocess.run([cc, "-O2", "-std=c11", "-o", str(exe), str(src), f"-I{hdf5 / 'include'}",
                    f"-L{hdf5 / 'lib'}", "-lhdf5", f"-Wl,-rpath,{hdf5 / 'lib'}"], check=True)
    return exe


def environment(plugins: Path, connector: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDF5_")}
    env.update(HDF5_PLUGIN_PATH=str(plugins), HDF5_VOL_CONNECTOR=connector,
               PYTHONPATH=str(REPO / "python"))
    return env


def run_json(cmd, env, cwd) -> dict:
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", default=os.environ.get("NIMBUS_BUILD_DIR", "build/dev"))
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--size-mib", type=int, default=256)
    args = ap.parse_args()
    plugins = (REPO / args.build_dir / "plugins").resolve()
    for lib in ("libnimbus_vol.so", "libnimbus_pyvol.so"):
        if not (plugins / lib).is_file():
            raise SystemExit(f"{plugins / lib} missing: build the nimbus_vol and pyvol targets")
    hdf5 = Path(os.environ.get("NIMBUS_HDF5_DIR", ""))
    if not (hdf5 / "include" / "hdf5.h").is_file():
        raise SystemExit('NIMBUS_HDF5_DIR unset: eval "$(scripts/env)" first')
    connectors = {
        "pyvol": f"pyvol module=in_memory;class=InMemoryConnector;path={REPO / 'examples' / 'pyvol'}",
        "nimbus": "nimbus store=memory://bench",
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        exe = compile_calls(work, hdf5)
        for name, connector in connectors.items():
            env = environment(plugins, connector)
            r = run_json([str(exe), str(args.calls)], env, work)
            r.update(run_json([sys.executable, "-c", H5PY_BENCH, str(args.calls), str(args.size_mib)], env, work))
            results[name] = r
    rows = [("H5Dread, 1 element (C)", "read_us", "µs/call"),
            ("H5Dwrite, 1 element (C)", "write_us", "µs/call"),
            ("H5Lexists (C)", "exists_us", "µs/call"),
            ("h5py d[i]", "h5py_read_us", "µs/call"),
            (f"read {args.size_mib} MiB f8 (h5py)", "read_gbps", "GB/s")]
    print(f"{'':34} {'pyvol':>10} {'nimbus':>10} {'pyvol/nimbus':>13}")
    for label, key, unit in rows:
        p, n = results["pyvol"][key], results["nimbus"][key]
        print(f"{label + ' [' + unit + ']':34} {p:10.2f} {n:10.2f} {p / n:13.2f}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
