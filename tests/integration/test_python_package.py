"""The nimbus Python package installs with pip from the repository and imports cleanly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import REPO_ROOT, build_dir


def _clean_env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HDF5_") and k not in ("PYTHONPATH", "NIMBUS_PLUGIN_PATH",
                                                      "NIMBUS_BUILD_DIR")}
    env.update(extra)
    return env


def pip_install(tmp_path: Path) -> Path:
    """`pip install --no-deps --target` of a copy of <repo>/python (setuptools writes build/ into
    the source tree, which must stay clean)."""
    source = tmp_path / "src"
    shutil.copytree(REPO_ROOT / "python", source,
                    ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info"))
    target = tmp_path / "site"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
                        "--target", str(target), str(source)],
                       capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    return target


def test_pip_install_and_import(tmp_path):
    target = pip_install(tmp_path)
    assert (target / "nimbus" / "__init__.py").is_file()
    assert (target / "nimbus" / "h5py_compat.py").is_file()
    assert list(target.glob("nimbus-0.1.0.dist-info")), sorted(p.name for p in target.iterdir())
    script = textwrap.dedent('''
        import sys, os
        import nimbus
        assert nimbus.__file__.startswith(sys.argv[1]), nimbus.__file__
        assert nimbus.__version__ == "0.1.0"
        assert "h5py" not in sys.modules          # import nimbus never loads HDF5
        for fn in ("configure_s3", "configure_azure", "configure_local", "enable", "plugin_path"):
            assert callable(getattr(nimbus, fn))
        import nimbus.h5py_compat
        nimbus.configure_local(sys.argv[1])
        assert nimbus.connector_string() == "nimbus store=" + os.path.realpath(sys.argv[1])
        # Outside the repository, the plugin comes from NIMBUS_PLUGIN_PATH (or nimbus/plugins).
        try:
            nimbus.plugin_path()
        except FileNotFoundError as e:
            assert "libnimbus_vol.so" in str(e)
        else:
            raise AssertionError("found a plugin although none is installed")
        os.environ["NIMBUS_PLUGIN_PATH"] = sys.argv[2]
        assert nimbus.plugin_path() == sys.argv[2]
        print("IMPORT-OK")
    ''')
    r = subprocess.run([sys.executable, "-c", script, str(target), str(build_dir() / "plugins")],
                       env=_clean_env(PYTHONPATH=str(target)), capture_output=True, text=True,
                       timeout=120, cwd=tmp_path)
    assert r.returncode == 0 and "IMPORT-OK" in r.stdout, r.stdout + r.stderr


def test_installed_package_drives_h5py(tmp_path):
    """The pip-installed package (not the repo copy) enables nimbus for h5py end to end."""
    plugin = build_dir() / "plugins" / "libnimbus_vol.so"
    assert plugin.is_file(), f"{plugin} not built (run `make build`)"
    target = pip_install(tmp_path)
    store = tmp_path / "store"
    script = textwrap.dedent(f'''
        import nimbus
        nimbus.configure_local({str(store)!r})
        nimbus.enable()
        import h5py
        with h5py.File("pkg.h5", "w") as f:
            f.create_group("b"); f.create_group("a/c")
        with h5py.File("pkg.h5", "r") as f:
            assert list(f) == ["a", "b"] and "a/c" in f
        print("H5PY-OK")
    ''')
    r = subprocess.run([sys.executable, "-c", script],
                       env=_clean_env(PYTHONPATH=str(target), NIMBUS_PLUGIN_PATH=str(plugin.parent)),
                       capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert r.returncode == 0 and "H5PY-OK" in r.stdout, r.stdout + r.stderr
    assert (store / "pkg.h5" / "a" / "c" / "zarr.json").is_file()
