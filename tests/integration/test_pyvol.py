"""nimbus.pyvol: HDF5 connectors written in Python (issue #6), through the `pyvol` plugin.

h5py scenarios against the modern in-memory example (examples/pyvol/in_memory.py), a C program
against it (the bridge starts Python itself), error propagation, the handle table (a 10,000-cycle
open/close loop keeps memory flat), threads with h5py releasing the GIL around I/O, and the pure
Python object-store example (boto3 to MinIO).

h5py reads HDF5_VOL_CONNECTOR when it is imported, so each scenario runs in its own process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict, Optional

import pytest

from conftest import REPO_ROOT, build_dir

PLUGIN_DIR = (REPO_ROOT / build_dir() / "plugins").resolve()  # subprocesses run elsewhere
EXAMPLES = REPO_ROOT / "examples" / "pyvol"
MEMORY = f"pyvol module=in_memory;class=InMemoryConnector;path={EXAMPLES}"

PRELUDE = '''
import os, sys, gc, threading, time
import numpy as np
import h5py
'''


@pytest.fixture(scope="module", autouse=True)
def plugins_built():
    for name in ("libnimbus_pyvol.so", "nimbus_pyvol_core.so"):
        if not (PLUGIN_DIR / name).is_file():
            pytest.fail(f"{name} not built in {PLUGIN_DIR} (build the 'pyvol' target)", pytrace=False)


def pyvol_env(connector: str = MEMORY, extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HDF5_", "AWS_"))}
    env.update(HDF5_PLUGIN_PATH=str(PLUGIN_DIR), HDF5_VOL_CONNECTOR=connector,
               PYTHONPATH=str(REPO_ROOT / "python"))
    env.update(extra or {})
    return env


def run(code: str, tmp_path: Path, connector: str = MEMORY, extra: Optional[Dict[str, str]] = None,
        timeout: int = 180, expect_ok: bool = True) -> subprocess.CompletedProcess:
    script = PRELUDE + textwrap.dedent(code) + "\nprint('SCENARIO-OK')\n"
    r = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=pyvol_env(connector, extra),
                       capture_output=True, text=True, timeout=timeout)
    if expect_ok:
        assert r.returncode == 0 and "SCENARIO-OK" in r.stdout, (
            f"scenario failed (exit {r.returncode})\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}")
    return r


# ------------------------------------------------------------------------------------------------
# Datasets


def test_datasets_of_every_dtype_round_trip(tmp_path):
    run('''
    from nimbus import pyvol
    numeric = ["i1", "u1", "<i2", ">i2", "<u2", ">u2", "<i4", ">i4", "<u4", ">u4", "<i8", ">i8",
               "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8"]
    expected = {}
    with h5py.File("types.h5", "w") as f:
        for dt in numeric:
            dt = np.dtype(dt)
            if dt.kind == "f":
                a = (np.arange(24).reshape(4, 6) * 1.25 - 7).astype(dt)
            else:
                info = np.iinfo(dt)
                a = np.linspace(info.min, info.max, 24).astype(dt).reshape(4, 6)
                a[0, 0], a[-1, -1] = info.min, info.max
            name = "n_" + dt.str.replace("<", "le").replace(">", "be").replace("|", "")
            expected[name] = a
            d = f.create_dataset(name, data=a)
            assert d.dtype == dt, (name, d.dtype)
        expected["bool"] = np.array([[True, False, True], [False, False, True]])
        expected["complex"] = np.array([1 + 2j, -3.5j], dtype="c16")
        expected["compound"] = np.array([(1, 2.5, b"ab"), (-4, 0.125, b"xyz")],
                                        dtype=[("i", "<i4"), ("x", "<f8"), ("s", "S3")])
        expected["fixed"] = np.array([b"alpha", b"be", b""], dtype="S5")
        expected["vlen_bytes"] = np.array([b"one", b"", b"three"], dtype=h5py.string_dtype("ascii"))
        expected["vlen_text"] = np.array(["grüße", "", "日本"], dtype=h5py.string_dtype())
        expected["array"] = np.zeros(3, dtype=("<i2", (2, 2)))
        expected["array"][1] = [[1, 2], [3, 4]]
        for k in ["bool", "complex", "compound", "fixed", "vlen_bytes", "vlen_text", "array"]:
            f.create_dataset(k, data=expected[k])
        f.create_dataset("enum", data=np.array([0, 2, 1], dtype="i1"),
                         dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 2}, basetype="i1"))
        f.create_dataset("scalar", data=np.float32(2.5))
        assert f["vlen_text"].dtype == h5py.string_dtype(), f["vlen_text"].dtype
    with h5py.File("types.h5", "r") as f:
        for k, a in expected.items():
            got = f[k][()]
            if k == "vlen_text":
                got = f[k].asstr()[()]
            assert got.dtype.kind == a.dtype.kind or k in ("vlen_text",), (k, got.dtype, a.dtype)
            assert (np.asarray(got) == a).all(), (k, got, a)
        assert f["n_be4" if False else "n_bei4"].dtype == np.dtype(">i4")
        assert list(f["enum"][()]) == [0, 2, 1]
        assert h5py.check_enum_dtype(f["enum"].dtype) == {"RED": 0, "GREEN": 1, "BLUE": 2}
        assert f["scalar"][()] == np.float32(2.5) and f["scalar"].shape == ()
        assert f["bool"].dtype == np.bool_
        # HDF5's conversion to another memory type (read int32 as float64).
        assert (f["n_lei4"].astype("f8")[()] == expected["n_lei4"].astype("f8")).all()
    ''', tmp_path)


def test_selections_hyperslabs_points_and_memory_layouts(tmp_path):
    run('''
    a = np.arange(12 * 10, dtype="<i4").reshape(12, 10)
    with h5py.File("sel.h5", "w") as f:
        d = f.create_dataset("d", data=a)
        assert (d[2:9:3, 1:8:2] == a[2:9:3, 1:8:2]).all()
        assert (d[5] == a[5]).all() and d[3, 4] == a[3, 4]
        assert (d[:, 7] == a[:, 7]).all()
        assert (d[[1, 4, 9], 2:5] == a[[1, 4, 9], 2:5]).all()        # a union of hyperslabs
        mask = (a % 7) == 0
        assert (d[mask] == a[mask]).all()                             # point selection
        assert d[0:0].shape == (0, 10)                                # empty selection
        # Writes: a block, a broadcast, points, strided.
        d[1:3, 2:4] = [[-1, -2], [-3, -4]]
        a[1:3, 2:4] = [[-1, -2], [-3, -4]]
        d[:, 0] = 99
        a[:, 0] = 99
        d[mask] = -7
        a[mask] = -7
        d[::4, ::3] = 5
        a[::4, ::3] = 5
        assert (d[()] == a).all()
        # Non-contiguous memory: read_direct into a window of a bigger array, and from one.
        out = np.zeros((20, 20), dtype="<i4")
        d.read_direct(out, np.s_[2:6, 1:5], np.s_[10:14, 3:7])
        assert (out[10:14, 3:7] == a[2:6, 1:5]).all() and out[0, 0] == 0
        src = np.arange(400, dtype="<i4").reshape(20, 20)
        d.write_direct(src, np.s_[0:3, 0:3], np.s_[9:12, 7:10])
        a[9:12, 7:10] = src[0:3, 0:3]
        assert (d[()] == a).all()
        # Another memory type on write (float64 -> int32 by HDF5's rules).
        d[0, :] = np.linspace(0, 9, 10)
        a[0, :] = np.arange(10)
        assert (d[0] == a[0]).all()
        # Resize keeps data, new elements get the fill value.
        r = f.create_dataset("r", shape=(2, 3), maxshape=(None, 3), dtype="f4", fillvalue=1.5,
                             chunks=(2, 3))
        r[...] = [[1, 2, 3], [4, 5, 6]]
        r.resize((4, 3))
        assert r.shape == (4, 3) and r.fillvalue == 1.5
        assert (r[()] == [[1, 2, 3], [4, 5, 6], [1.5] * 3, [1.5] * 3]).all()
        assert r.chunks == (2, 3) and r.maxshape == (None, 3)
        try:
            r.resize((4, 4))
        except Exception as e:
            assert "maximum" in str(e), e
        else:
            raise AssertionError("grew past maxshape")
    ''', tmp_path)


# ------------------------------------------------------------------------------------------------
# Groups, links, attributes


def test_groups_links_and_iteration(tmp_path):
    run('''
    with h5py.File("tree.h5", "w") as f:
        f.create_group("a/b/c")                       # intermediate groups
        f["a/x"] = np.arange(3)
        f["a/b/y"] = np.arange(4.0)
        f.create_group("z")
        assert sorted(f.keys()) == ["a", "z"], list(f.keys())
        assert list(f["a"]) == ["b", "x"], list(f["a"])
        assert len(f["a"]) == 2 and "a/b/c" in f and "a/q" not in f and "x" in f["a"]
        seen = []
        f.visit(seen.append)
        assert seen == ["a", "a/b", "a/b/c", "a/b/y", "a/x", "z"], seen
        items = {}
        f.visititems(lambda n, o: items.__setitem__(n, type(o).__name__))
        assert items["a/x"] == "Dataset" and items["a/b"] == "Group", items
        assert f.get("a/x", getclass=True) is h5py.Dataset
        assert f["a/b/y"].name == "/a/b/y" and f["a/b/y"].parent.name == "/a/b"
        assert f["a/b/y"].file == f and f["a/b/y"].file.filename == "tree.h5"
        # Links: soft, hard, move, delete.
        f["soft"] = h5py.SoftLink("/a/b/y")
        assert (f["soft"][()] == np.arange(4.0)).all()
        assert isinstance(f.get("soft", getlink=True), h5py.SoftLink)
        assert f.get("soft", getlink=True).path == "/a/b/y"
        f["hard"] = f["a/x"]
        assert (f["hard"][()] == np.arange(3)).all()
        f.move("z", "a/b/z")
        assert "z" not in f and "a/b/z" in f
        del f["a/x"]
        assert "a/x" not in f and (f["hard"][()] == np.arange(3)).all()
        links = []
        f.visit_links(links.append)
        assert "soft" in links and "a/b/z" in links, links
        # Object identity through H5Gget_objinfo emulation (hash, ==).
        assert f["a/b"] == f["a"]["b"] and hash(f["a/b"]) == hash(f["a"]["b"])
        try:
            f.create_group("a")
        except ValueError as e:
            assert "already exists" in str(e), e
        else:
            raise AssertionError("duplicate group")
        try:
            f["missing/thing"]
        except KeyError:
            pass
        else:
            raise AssertionError("missing object opened")
    ''', tmp_path)


def test_attributes(tmp_path):
    run('''
    with h5py.File("attrs.h5", "w") as f:
        d = f.create_dataset("d", data=np.zeros(3))
        g = f.create_group("g")
        f.attrs["int"] = 42
        f.attrs["floats"] = np.array([[1.5, 2.5], [3.5, 4.5]])
        g.attrs["text"] = "héllo"
        g.attrs["words"] = ["a", "bc", "déf"]
        d.attrs.create("u2", data=[1, 2, 3], dtype="<u2")
        d.attrs["flag"] = True
        assert f.attrs["int"] == 42 and f.attrs["floats"][1, 0] == 3.5
        assert g.attrs["text"] == "héllo" and list(g.attrs["words"]) == ["a", "bc", "déf"]
        assert d.attrs["u2"].dtype == np.dtype("<u2") and list(d.attrs["u2"]) == [1, 2, 3]
        assert d.attrs["flag"] == True
        assert sorted(d.attrs) == ["flag", "u2"] and len(d.attrs) == 2 and "flag" in d.attrs
        f.attrs["int"] = 7                            # replace (delete + create)
        f.attrs.modify("floats", np.ones((2, 2)))     # rewrite in place
        assert f.attrs["int"] == 7 and (f.attrs["floats"] == 1).all()
        del d.attrs["flag"]
        assert list(d.attrs) == ["u2"]
        try:
            d.attrs["nope"]
        except KeyError:
            pass
        else:
            raise AssertionError("missing attribute opened")
    with h5py.File("attrs.h5", "r") as f:
        assert dict(f["g"].attrs)["text"] == "héllo"
    ''', tmp_path)


# ------------------------------------------------------------------------------------------------
# Errors


FAULTY = '''
import numpy as np
from nimbus import pyvol

class Broken(Exception):
    pass

class Dataset(pyvol.Dataset):
    kept = []
    def read(self, selection, out):
        if self.shape == (13,):
            raise Broken("disk on fire while reading")
        out[...] = 1
    def write(self, selection, data):
        if self.shape == (7,):
            Dataset.kept.append(data)          # keeps HDF5's buffer: must be refused
        if self.shape == (5,):
            raise PermissionError("quota exceeded")

class File(pyvol.File):
    def __init__(self):
        self.items = {}
    def open(self, name):
        return self.items[name]
    def has_link(self, name):
        return name in self.items
    def links(self):
        return sorted(self.items)
    def create_dataset(self, name, *, dtype, shape, maxshape, chunks=None, fillvalue=None):
        if name == "forbidden":
            raise ValueError("names like 'forbidden' are not allowed here")
        self.items[name] = Dataset(dtype=dtype, shape=shape, maxshape=maxshape)
        return self.items[name]

class Faulty(pyvol.Connector):
    def __init__(self):
        self.files = {}
    def file_create(self, name, *, mode):
        if name.startswith("denied"):
            raise PermissionError(f"no access to {name}")
        if mode == "x" and name in self.files:
            raise FileExistsError(name)
        self.files[name] = File()
        return self.files[name]
    def file_open(self, name, *, mode):
        if name not in self.files:
            raise FileNotFoundError(name)
        return self.files[name]

class NoOpen(pyvol.Connector):
    def file_create(self, name, *, mode):
        return File()
'''


def test_python_exceptions_become_hdf5_errors(tmp_path):
    (tmp_path / "faulty.py").write_text(FAULTY)
    connector = f"pyvol module=faulty;class=Faulty;path={tmp_path}"
    run('''
    def expect(exc_type, text, fn):
        try:
            fn()
        except exc_type as e:
            assert text in str(e), (exc_type, text, str(e))
            return e
        raise AssertionError(f"no {exc_type.__name__} for {text!r}")

    f = h5py.File("f.h5", "w")
    expect(FileExistsError, "FileExistsError", lambda: h5py.File("f.h5", "x"))
    expect(FileNotFoundError, "FileNotFoundError: g.h5", lambda: h5py.File("g.h5", "r"))
    expect(PermissionError, "no access to denied.h5", lambda: h5py.File("denied.h5", "w"))
    h5py.File("new.h5", "a").close()   # 'a' creates after FileNotFoundError from the open
    expect(ValueError, "names like 'forbidden' are not allowed", lambda: f.create_dataset("forbidden", (1,)))
    d = f.create_dataset("bad", shape=(13,), dtype="i4")
    e = expect(OSError, "Broken: disk on fire while reading", lambda: d[...])
    assert "faulty.py" in str(e), e            # where it was raised
    q = f.create_dataset("quota", shape=(5,), dtype="i4")
    expect(PermissionError, "quota exceeded", lambda: q.__setitem__(slice(None), 1))
    k = f.create_dataset("keeper", shape=(7,), dtype="i4")
    expect(OSError, "kept a reference", lambda: k.__setitem__(slice(None), 3))
    # Still usable after all that.
    ok = f.create_dataset("ok", shape=(3,), dtype="i4")
    assert (ok[...] == 1).all()
    f.close()
    ''', tmp_path, connector=connector)
    # A connector without file_open: that one call fails, clearly.
    r = run('''
    h5py.File("x.h5", "w").close()
    try:
        h5py.File("x.h5", "r")
    except OSError as e:
        assert "NoOpen cannot open files" in str(e), e
    ''', tmp_path, connector=f"pyvol module=faulty;class=NoOpen;path={tmp_path}")
    # A connector string naming a missing module: an error at file create, not at import.
    r = run('''
    try:
        h5py.File("x.h5", "w")
    except OSError as e:
        assert "No module named 'no_such_module'" in str(e), e
    else:
        raise AssertionError("created a file without a connector")
    ''', tmp_path, connector="pyvol module=no_such_module;class=X")


# ------------------------------------------------------------------------------------------------
# Hosts: C programs, threads, the handle table


C_MODERN = r'''
#include <hdf5.h>
#include <stdio.h>
#include <string.h>

int main(void) {
  hid_t f = H5Fcreate("c.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) return 1;
  hsize_t dims[2] = {6, 8};
  hid_t space = H5Screate_simple(2, dims, NULL);
  hid_t g = H5Gcreate2(f, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  hid_t d = H5Dcreate2(g, "data", H5T_STD_I16BE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (g < 0 || d < 0) return 2;
  int all[48];
  for (int i = 0; i < 48; ++i) all[i] = i - 10;
  if (H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) < 0) return 3;
  /* A 2x3 hyperslab read as doubles. */
  hsize_t start[2] = {2, 3}, count[2] = {2, 3};
  H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL);
  hsize_t mdims[1] = {6};
  hid_t mem = H5Screate_simple(1, mdims, NULL);
  double slab[6];
  if (H5Dread(d, H5T_NATIVE_DOUBLE, mem, space, H5P_DEFAULT, slab) < 0) return 4;
  for (int r = 0; r < 2; ++r)
    for (int c = 0; c < 3; ++c)
      if (slab[r * 3 + c] != (double)((2 + r) * 8 + 3 + c - 10)) return 5;
  /* Three points. */
  hsize_t coords[6] = {0, 0, 5, 7, 3, 1};
  H5Sselect_elements(space, H5S_SELECT_SET, 3, coords);
  hsize_t pdims[1] = {3};
  hid_t pmem = H5Screate_simple(1, pdims, NULL);
  int points[3];
  if (H5Dread(d, H5T_NATIVE_INT, pmem, space, H5P_DEFAULT, points) < 0) return 6;
  if (points[0] != -10 || points[1] != 47 - 10 || points[2] != 25 - 10) return 7;
  /* An attribute and the stored type. */
  hid_t as = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(d, "scale", H5T_IEEE_F64LE, as, H5P_DEFAULT, H5P_DEFAULT);
  double scale = 0.25, back = 0;
  if (a < 0 || H5Awrite(a, H5T_NATIVE_DOUBLE, &scale) < 0) return 8;
  if (H5Aread(a, H5T_NATIVE_DOUBLE, &back) < 0 || back != 0.25) return 9;
  hid_t t = H5Dget_type(d);
  if (H5Tequal(t, H5T_STD_I16BE) <= 0) return 10;
  H5Tclose(t); H5Aclose(a); H5Sclose(as); H5Sclose(pmem); H5Sclose(mem);
  H5Dclose(d); H5Gclose(g); H5Sclose(space);
  if (H5Fclose(f) < 0) return 11;
  /* Reopen (same process, same connector instance). */
  f = H5Fopen("c.h5", H5F_ACC_RDONLY, H5P_DEFAULT);
  d = H5Dopen2(f, "/grp/data", H5P_DEFAULT);
  int again[48];
  if (d < 0 || H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, again) < 0) return 12;
  if (memcmp(again, all, sizeof all) != 0) return 13;
  if (H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0) return 14; /* read-only */
  H5Dclose(d);
  H5Fclose(f);
  printf("C-MODERN-OK\n");
  return 0;
}
'''


def compile_c(source: str, out: Path) -> Path:
    prefix = Path(os.environ.get("NIMBUS_HDF5_DIR", ""))
    if not (prefix / "include" / "hdf5.h").is_file():
        pytest.skip("NIMBUS_HDF5_DIR unset (eval \"$(scripts/env)\")")
    cc = shutil.which("cc") or shutil.which("gcc")
    src = out.with_suffix(".c")
    src.write_text(source)
    lib = prefix / "lib"
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-o", str(out), str(src),
                    f"-I{prefix / 'include'}", f"-L{lib}", "-lhdf5", f"-Wl,-rpath,{lib}"], check=True)
    return out


def test_modern_connector_from_a_c_program(tmp_path):
    exe = compile_c(C_MODERN, tmp_path / "modern_app")
    env = pyvol_env()
    env.pop("VIRTUAL_ENV", None)
    r = subprocess.run([str(exe)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "C-MODERN-OK" in r.stdout, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    # The read-only write failed with the bridge's message on HDF5's error stack.
    assert "open read-only" in r.stderr


def test_threads_do_not_deadlock_when_h5py_releases_the_gil(tmp_path):
    slow = '''
import time
import numpy as np
import in_memory

class SlowDataset(in_memory.MemoryDataset):
    def read(self, selection, out):
        time.sleep(0.002)   # lets other Python threads run while HDF5 waits for us
        super().read(selection, out)
    def write(self, selection, data):
        time.sleep(0.002)
        super().write(selection, data)

class SlowGroup(in_memory.MemoryGroup):
    def create_dataset(self, name, **kw):
        self.members[name] = SlowDataset(**kw)
        return self.members[name]
    def create_group(self, name):
        self.members[name] = SlowGroup()
        return self.members[name]

class SlowFile(SlowGroup, in_memory.pyvol.File):
    pass

class Slow(in_memory.InMemoryConnector):
    def file_create(self, name, *, mode):
        self.files[name] = SlowFile()
        return self.files[name]
'''
    (tmp_path / "slow_vol.py").write_text(slow)
    connector = f"pyvol module=slow_vol;class=Slow;path={tmp_path}:{EXAMPLES}"
    # path= takes one directory; the example directory comes through PYTHONPATH instead.
    connector = f"pyvol module=slow_vol;class=Slow;path={tmp_path}"
    run('''
    f = h5py.File("t.h5", "w")
    n_threads, rounds = 8, 40
    for t in range(n_threads):
        f.create_dataset(f"d{t}", shape=(rounds, 16), dtype="i8")
    errors, ticks = [], [0]
    def worker(t):
        try:
            d = f[f"d{t}"]
            for i in range(rounds):
                d[i] = np.arange(16) + 1000 * t + i
                assert (d[i] == np.arange(16) + 1000 * t + i).all()
        except BaseException as e:
            errors.append(e)
    def ticker():                      # pure Python: only runs if I/O releases the GIL
        while not done.is_set():
            ticks[0] += 1
            time.sleep(0.001)
    done = threading.Event()
    tick = threading.Thread(target=ticker)
    tick.start()
    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads: th.start()
    for th in threads: th.join(timeout=120)
    done.set(); tick.join()
    assert not any(th.is_alive() for th in threads), "deadlock"
    assert not errors, errors
    for t in range(n_threads):
        assert (f[f"d{t}"][:, 3] == 1000 * t + np.arange(rounds) + 3).all()
    assert ticks[0] > 10, ticks
    f.close()
    ''', tmp_path, connector=connector, extra={"PYTHONPATH": f"{REPO_ROOT / 'python'}:{EXAMPLES}"},
        timeout=240)


def test_handle_table_does_not_leak_over_10000_open_close_cycles(tmp_path):
    run('''
    from nimbus import pyvol
    def rss_kib():
        with open("/proc/self/status") as s:
            for line in s:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    with h5py.File("leak.h5", "w") as f:
        d = f.create_dataset("g/d", data=np.arange(1000.0))
        d.attrs["a"] = 1
    baseline = pyvol.live_handles()
    assert baseline == 0, baseline
    def cycle(i):
        with h5py.File("leak.h5", "r") as f:
            d = f["g/d"]
            x = d[i % 1000]
            a = d.attrs["a"]
            assert x == i % 1000 and a == 1
    for i in range(500):
        cycle(i)
    gc.collect()
    before = rss_kib()
    for i in range(10000):
        cycle(i)
    gc.collect()
    after = rss_kib()
    live = pyvol.live_handles()
    print("RSS_KIB", before, after, "LIVE", live)
    assert live == 0, live
    assert after - before < 4096, (before, after)   # flat: < 4 MiB over 10,000 cycles
    ''', tmp_path, timeout=600)


def test_embedded_interpreter_starts_lazily_and_survives_probing(tmp_path):
    """A C program that never uses pyvol but has its plugin directory in HDF5_PLUGIN_PATH (HDF5
    probes every plugin after a failed native open) must not load Python."""
    probe = r'''
#include <hdf5.h>
#include <stdio.h>
#include <dlfcn.h>
int main(void) {
  H5E_BEGIN_TRY { hid_t f = H5Fopen("does-not-exist.h5", H5F_ACC_RDONLY, H5P_DEFAULT); (void)f; } H5E_END_TRY
  hid_t f = H5Fcreate("native.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) return 1;
  H5Fclose(f);
  printf("PYTHON-LOADED %d\n", dlsym(RTLD_DEFAULT, "Py_IsInitialized") != NULL);
  return 0;
}
'''
    exe = compile_c(probe, tmp_path / "probe_app")
    env = pyvol_env()
    env.pop("HDF5_VOL_CONNECTOR")
    r = subprocess.run([str(exe)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "PYTHON-LOADED 0" in r.stdout, r.stdout


# ------------------------------------------------------------------------------------------------
# The object-store example (pure Python, boto3 to MinIO)


@pytest.mark.s3
def test_object_store_connector_on_minio(tmp_path, s3_config, unique_prefix, s3_client):
    connector = f"pyvol module=s3_store;class=S3Connector;path={EXAMPLES}"
    extra = {"PYVOL_S3_BUCKET": s3_config.bucket, "PYVOL_S3_PREFIX": unique_prefix,
             "PYVOL_S3_ENDPOINT": s3_config.endpoint, "AWS_ACCESS_KEY_ID": s3_config.access_key,
             "AWS_SECRET_ACCESS_KEY": s3_config.secret_key, "AWS_REGION": s3_config.region}
    run('''
    a = np.arange(300 * 40, dtype="<f8").reshape(300, 40)
    with h5py.File("run.h5", "w") as f:
        d = f.create_dataset("grid/temperature", data=a, chunks=(64, 16))
        d.attrs["units"] = "K"
        f.create_dataset("labels", data=np.array(["a", "bé", ""], dtype=h5py.string_dtype()))
        f["latest"] = h5py.SoftLink("/grid/temperature")
        d[10:20, 5] = -1
        a[10:20, 5] = -1
    ''', tmp_path, connector=connector, extra=extra)
    # A second process reads it back from the store.
    run('''
    a = np.arange(300 * 40, dtype="<f8").reshape(300, 40)
    a[10:20, 5] = -1
    with h5py.File("run.h5", "r") as f:
        d = f["grid/temperature"]
        assert d.shape == (300, 40) and d.chunks == (64, 16) and d.attrs["units"] == "K"
        assert (d[()] == a).all()
        assert (d[100:250:7, 3:39:5] == a[100:250:7, 3:39:5]).all()
        assert (f["latest"][5] == a[5]).all()
        assert list(f["labels"].asstr()[()]) == ["a", "bé", ""]
        assert sorted(f.keys()) == ["grid", "labels", "latest"], list(f.keys())
    try:
        h5py.File("absent.h5", "r")
    except FileNotFoundError:
        pass
    else:
        raise AssertionError("opened a missing file")
    ''', tmp_path, connector=connector, extra=extra)
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=s3_config.bucket, Prefix=unique_prefix)
            .get("Contents", [])]
    chunks = [k for k in keys if "/grid/temperature/.chunks/" in k]
    assert len(chunks) == 5 * 3, keys   # ceil(300/64) x ceil(40/16) chunk objects
