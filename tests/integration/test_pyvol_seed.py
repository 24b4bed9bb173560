"""The seed's H5PyVOL connector (shared/seeds/001_9dce0c7cf58476f4.txt) on nimbus's pyvol bridge
(issue #6): its in-memory example, unchanged, from a C program and from h5py.

Every scenario runs in its own process with the connector selected exactly as the seed says:
HDF5_VOL_CONNECTOR=H5PyVOL, H5PyVOLModule=in_memory_vol, H5PyVOLClass=InMemoryVOL, the package in
the current directory. The C program is compiled here against the project's HDF5.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Dict

import pytest

from conftest import REPO_ROOT, build_dir

PLUGIN_DIR = (REPO_ROOT / build_dir() / "plugins").resolve()  # subprocesses run elsewhere
SEED_EXAMPLE = REPO_ROOT / "examples" / "pyvol" / "seed_in_memory" / "in_memory_vol"

SEED_C = r'''
#include <hdf5.h>
#include <stdio.h>

/* The handover's pseudo-app: FILE.h5, DATASET0 of 100 native ints, write, read back. */
int main(void) {
  int a[100], b[100];
  for (int i = 0; i < 100; ++i) { a[i] = i * 3 - 50; b[i] = 0; }
  hid_t f = H5Fcreate("FILE.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) return 1;
  char connector[32] = "";
  H5VLget_connector_name(f, connector, sizeof connector);
  printf("CONNECTOR %s\n", connector);
  hsize_t dims[1] = {100};
  hid_t s = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(f, "DATASET0", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (d < 0) return 2;
  if (H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, a) < 0) return 3;
  for (int i = 0; i < 100; ++i) a[i] = 7; /* reusing the buffer must not change the dataset */
  if (H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, b) < 0) return 4;
  for (int i = 0; i < 100; ++i) {
    if (b[i] != i * 3 - 50) { printf("MISMATCH %d: %d\n", i, b[i]); return 5; }
  }
  hid_t t = H5Dget_type(d);
  if (H5Tequal(t, H5T_NATIVE_INT) <= 0) return 6;
  hid_t s2 = H5Dget_space(d);
  hssize_t n = H5Sget_simple_extent_npoints(s2);
  if (n != 100) return 7;
  H5Tclose(t); H5Sclose(s2); H5Dclose(d); H5Sclose(s);
  if (H5Fclose(f) < 0) return 8;
  printf("C-SEED-OK sum=%d\n", b[99] + b[0]);
  return 0;
}
'''

READ_BEFORE_WRITE_C = r'''
#include <hdf5.h>
#include <stdio.h>
int main(void) {
  int b[100];
  hid_t f = H5Fcreate("FILE.h5", H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hsize_t dims[1] = {100};
  hid_t s = H5Screate_simple(1, dims, NULL);
  hid_t d = H5Dcreate2(f, "DATASET0", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  herr_t r = H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, b);
  printf("READ-STATUS %d\n", (int)r);
  H5Dclose(d); H5Sclose(s); H5Fclose(f);
  return r < 0 ? 0 : 1;
}
'''


@pytest.fixture(scope="module", autouse=True)
def plugins_built():
    for name in ("libh5pyvol.so", "libnimbus_pyvol.so", "nimbus_pyvol_core.so"):
        if not (PLUGIN_DIR / name).is_file():
            pytest.fail(f"{name} not built in {PLUGIN_DIR} (build the 'pyvol' target)", pytrace=False)


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A working directory holding the seed's package, as the handover requires."""
    shutil.copytree(SEED_EXAMPLE, tmp_path / "in_memory_vol")
    return tmp_path


def seed_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HDF5_")}
    env.update(HDF5_PLUGIN_PATH=str(PLUGIN_DIR), HDF5_VOL_CONNECTOR="H5PyVOL",
               H5PyVOLModule="in_memory_vol", H5PyVOLClass="InMemoryVOL",
               PYTHONPATH=str(REPO_ROOT / "python"))
    return env


def hdf5_prefix() -> Path:
    prefix = os.environ.get("NIMBUS_HDF5_DIR")
    if not prefix:
        pytest.skip("NIMBUS_HDF5_DIR unset (eval \"$(scripts/env)\")")
    return Path(prefix)


def compile_c(source: str, out: Path) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("no C compiler on PATH")
    prefix = hdf5_prefix()
    src = out.with_suffix(".c")
    src.write_text(source)
    lib = prefix / "lib"
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-o", str(out), str(src), f"-I{prefix / 'include'}",
                    f"-L{lib}", "-lhdf5", f"-Wl,-rpath,{lib}"], check=True)
    return out


def expect_order(stdout: str, lines) -> None:
    pos = 0
    for line in lines:
        i = stdout.find(line, pos)
        assert i >= 0, f"{line!r} missing or out of order in:\n{stdout}"
        pos = i + len(line)


def test_seed_example_from_c(seed_dir: Path):
    exe = compile_c(SEED_C, seed_dir / "seed_app")
    env = seed_env()
    env.pop("VIRTUAL_ENV", None)  # the bridge must find numpy from its own configuration
    r = subprocess.run([str(exe)], cwd=seed_dir, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "CONNECTOR H5PyVOL" in r.stdout, r.stdout
    assert "C-SEED-OK sum=197" in r.stdout  # b[99] + b[0] = 247 - 50, read back through Python
    expect_order(r.stdout, ["Creating file FILE.h5", "Creating dataset FILE.h5/DATASET0",
                            "Writing dataset FILE.h5/DATASET0 = [-50 -47 -44",
                            "Reading dataset FILE.h5/DATASET0 = [-50 -47 -44", "C-SEED-OK"])


def test_seed_read_before_write_is_an_hdf5_error_not_a_crash(seed_dir: Path):
    exe = compile_c(READ_BEFORE_WRITE_C, seed_dir / "read_first")
    r = subprocess.run([str(exe)], cwd=seed_dir, env=seed_env(), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    assert "READ-STATUS -1" in r.stdout
    # HDF5 printed its error stack with the Python exception in it.
    assert "AttributeError" in r.stderr and "array" in r.stderr


def run_python(code: str, cwd: Path, env: Dict[str, str]) -> str:
    script = textwrap.dedent(code) + "\nprint('SCENARIO-OK')\n"
    r = subprocess.run([sys.executable, "-c", script], cwd=cwd, env=env, capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0 and "SCENARIO-OK" in r.stdout, (
        f"scenario failed (exit {r.returncode})\n--- stdout\n{r.stdout}\n--- stderr\n{r.stderr}")
    return r.stdout


def test_seed_example_from_h5py(seed_dir: Path):
    out = run_python('''
        import numpy as np, h5py
        a = np.arange(100, dtype=np.int32) * 2
        f = h5py.File('FILE.h5', 'w')
        d = f.create_dataset('DATASET0', data=a)
        a[:] = -1                      # the connector keeps its own copy
        assert d.shape == (100,) and d.dtype == np.int32, (d.shape, d.dtype)
        out = d[...]
        assert (out == np.arange(100) * 2).all(), out
        part = d[10:20]                # a selection of what the seed returns whole
        assert (part == np.arange(10, 20) * 2).all(), part
        print('SUM', int(out.sum()))
        f.close()
    ''', seed_dir, seed_env())
    assert "SUM 9900" in out
    expect_order(out, ["Creating file FILE.h5", "Creating dataset FILE.h5/DATASET0",
                       "Writing dataset FILE.h5/DATASET0 = [  0   2   4",
                       "Reading dataset FILE.h5/DATASET0 = [  0   2   4"])


def test_seed_errors_stay_hdf5_errors(seed_dir: Path):
    run_python('''
        import h5py, numpy as np
        f = h5py.File('FILE.h5', 'w')
        # No file_open in the seed: an error for that call, not an exit.
        try:
            h5py.File('FILE.h5', 'r')
        except OSError as e:
            assert 'H5VL_python_file_open' in str(e), e
        else:
            raise AssertionError('open succeeded')
        # Attributes are not part of the seed's interface.
        try:
            f.attrs['x'] = 1
        except Exception as e:
            assert 'not part of the H5PyVOL interface' in str(e), e
        else:
            raise AssertionError('attribute create succeeded')
        d = f.create_dataset('D', shape=(4,), dtype='i4')
        try:
            d[...]
        except OSError as e:
            assert 'AttributeError' in str(e), e
        else:
            raise AssertionError('read before write succeeded')
        f.close()
    ''', seed_dir, seed_env())


REPO_STYLE = '''
from h5pyvol import H5VOL, H5File, H5Group, H5Dataset
import numpy as np

CALLS = []

class Dataset(H5Dataset):
    def __init__(self, name):
        self.name = name
        self.array = None
    def H5VL_python_dataset_read(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id, req):
        CALLS.append(('read', self.name))
        return self.array
    def H5VL_python_dataset_write(self, mem_type_id, mem_space_id, file_space_id, xfer_plist_id, buffer, req):
        CALLS.append(('write', self.name, buffer.dtype.str, buffer.shape, buffer.flags.owndata))
        self.array = buffer

class Group(H5Group):
    def __init__(self, name):
        self.name = name
        self.datasets = {}
    def H5VL_python_dataset_create(self, loc_params, name, dcpl_id, dapl_id, dxpl_id, req):
        CALLS.append(('dataset_create', self.name, name))
        self.datasets[name] = Dataset(name)
        return self.datasets[name]
    def H5VL_python_dataset_open(self, loc_params, name, dapl_id, dxpl_id, req):
        CALLS.append(('dataset_open', self.name, name))
        return self.datasets[name]

class File(H5File):
    def __init__(self, name):
        self.name = name
        self.groups = {}
    def H5VL_python_dataset_create(self, loc_params, name, dcpl_id, dapl_id, dxpl_id, req):
        raise NotImplementedError('datasets live in groups here')
    def H5VL_python_group_create(self, loc_params, name, gcpl_id, gapl_id, dxpl_id, req):
        CALLS.append(('group_create', name))
        self.groups[name] = Group(name)
        return self.groups[name]
    def H5VL_python_group_open(self, loc_params, name, gapl_id, dxpl_id, req):
        CALLS.append(('group_open', name))
        return self.groups[name]

class RepoVOL(H5VOL):
    def __init__(self):
        self.files = {}
    def H5VL_python_file_create(self, name, flags, fcpl_id, fapl_id, dxpl_id, req):
        CALLS.append(('file_create', name, flags))
        self.files[name] = File(name)
        return self.files[name]
    def H5VL_python_file_open(self, name, flags, fapl_id, dxpl_id, req):
        CALLS.append(('file_open', name))
        return self.files[name]
'''


def test_repository_style_connector_with_groups_and_reopen(tmp_path: Path):
    (tmp_path / "repo_vol.py").write_text(REPO_STYLE)
    env = seed_env()
    env.update(H5PyVOLModule="repo_vol", H5PyVOLClass="RepoVOL")
    run_python('''
        import numpy as np, h5py, repo_vol
        a = np.arange(100, dtype=np.int32)
        with h5py.File('FILE.h5', 'w') as f:
            f.create_group('GROUP')
            f['GROUP'].create_dataset('DATASET0', data=a)
        with h5py.File('FILE.h5', 'r') as f:
            out = f['GROUP/DATASET0'][...]
            assert (out == a).all(), out
            assert list(f.keys()) == ['GROUP'], list(f.keys())
        calls = [c[0] for c in repo_vol.CALLS]
        assert calls[:4] == ['file_create', 'group_create', 'dataset_create', 'write'], calls
        write = repo_vol.CALLS[3]
        assert write[2:] == ('<i4', (100,), True), write   # an owned int32 copy of 100 elements
        assert 'file_open' in calls and calls[-1] == 'read', calls
    ''', tmp_path, env)
