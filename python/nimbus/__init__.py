"""nimbus: HDF5 on object storage, stored as Zarr v3 (readable by zarr-python and TensorStore).

Submodules:
    nimbus.zarr         Zarr v3 arrays and groups on S3, Azure Blob, a directory or memory.
    nimbus.h5py_compat  h5py Group iteration / visit / path `in` on nimbus files (HDF5's 1.10 API,
                        which h5py uses, refuses non-native connectors).
    nimbus.reduce       sum / min / max / count of a dataset selection, on the active storage
                        server when one is configured (active_storage=...), else here.

Using h5py on nimbus (configure, then enable, before h5py creates its first file):

    import nimbus
    nimbus.configure_s3("my-bucket", endpoint="http://127.0.0.1:9000", region="us-east-1")
    nimbus.enable()          # sets HDF5_VOL_CONNECTOR / HDF5_PLUGIN_PATH, patches h5py
    import h5py
    with h5py.File("run1.h5", "w") as f: ...      # s3://my-bucket/run1.h5

`import nimbus` alone patches h5py (when it gets imported) if HDF5_VOL_CONNECTOR already names
nimbus. The C++ extension (nimbus._native) is loaded on first use, not on `import nimbus`, so the
package imports even where the extension is not built.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Dict, Optional

__version__ = "0.1.0"

__all__ = ["configure_s3", "configure_azure", "configure_local", "enable", "plugin_path",
           "connector_string", "reduce", "__version__"]

PLUGIN_FILE = "libnimbus_vol.so"

# What configure_*() chose: the connector configuration string's items and extra environment.
_config: Dict[str, str] = {}
_config_env: Dict[str, str] = {}


def _load_native():
    """The nimbus._native extension module, with a clear error when it is missing."""
    try:
        from nimbus import _native
    except ImportError as e:
        raise ImportError(
            "nimbus._native (the C++ extension) is not built for this Python: build it with "
            "`make build` (it needs Debian's pybind11-dev) and put <repo>/python on PYTHONPATH"
        ) from e
    return _native


def reduce(obj, op, selection=None, axis=None, **kwargs):
    """op ('sum', 'min', 'max', 'count') of obj[selection] over axis, on the active storage server
    when one is configured; see nimbus.active.reduce."""
    from nimbus import active

    return active.reduce(obj, op, selection=selection, axis=axis, **kwargs)


# ------------------------------------------------------------------------------------------------
# Plugin location


def plugin_path() -> str:
    """The directory holding libnimbus_vol.so, for HDF5_PLUGIN_PATH. Searched: $NIMBUS_PLUGIN_PATH,
    the installed package (nimbus/plugins), $NIMBUS_BUILD_DIR/plugins, then the build tree of the
    repository this package sits in (<repo>/build/*/plugins, build/dev first)."""
    here = Path(__file__).resolve().parent
    candidates = []
    if os.environ.get("NIMBUS_PLUGIN_PATH"):
        candidates.append(Path(os.environ["NIMBUS_PLUGIN_PATH"]))
    candidates.append(here / "plugins")
    if os.environ.get("NIMBUS_BUILD_DIR"):
        build = Path(os.environ["NIMBUS_BUILD_DIR"])
        candidates.append((build if build.is_absolute() else here.parents[1] / build) / "plugins")
    repo_build = here.parents[1] / "build"
    candidates.append(repo_build / "dev" / "plugins")
    if repo_build.is_dir():
        candidates.extend(sorted(repo_build.glob("*/plugins")))
    for c in candidates:
        if (c / PLUGIN_FILE).is_file():
            return str(c)
    raise FileNotFoundError(
        f"{PLUGIN_FILE} not found (looked in: {', '.join(str(c) for c in candidates)}); build it "
        "with `make build` or set NIMBUS_PLUGIN_PATH to the directory that holds it")


# ------------------------------------------------------------------------------------------------
# Store configuration


def _setting(key: str, value: Any) -> str:
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value)
    for bad in (";",):
        if bad in text or bad in key:
            raise ValueError(f"nimbus setting {key}={text!r}: '{bad}' cannot appear in the "
                             "connector configuration string")
    if "=" in key or not key.strip():
        raise ValueError(f"invalid nimbus setting name {key!r}")
    return text


def _set_config(store: str, settings: Dict[str, Any], env: Optional[Dict[str, str]] = None) -> None:
    items = {"store": _setting("store", store)}
    for k, v in settings.items():
        if v is not None:
            items[k] = _setting(k, v)
    _config.clear()
    _config.update(items)
    _config_env.clear()
    _config_env.update(env or {})


def configure_s3(bucket: str, endpoint: Optional[str] = None, region: Optional[str] = None,
                 access_key_id: Optional[str] = None, secret_access_key: Optional[str] = None,
                 addressing: Optional[str] = None, signed_payloads: Optional[bool] = None,
                 **settings: Any) -> None:
    """Files go to s3://bucket[/prefix]/<name>. Unset settings come from the environment
    (AWS_ENDPOINT_URL_S3, AWS_REGION, AWS_ACCESS_KEY_ID, ...) and ~/.aws as usual; other store
    settings (session_token, profile, tls, max_connections, ...) are accepted as keywords.
    Takes effect at enable()."""
    bucket = bucket[len("s3://"):] if bucket.startswith("s3://") else bucket
    if not bucket.strip("/"):
        raise ValueError("configure_s3 needs a bucket name")
    _set_config("s3://" + bucket.strip("/"),
                dict(endpoint=endpoint, region=region, access_key_id=access_key_id,
                     secret_access_key=secret_access_key, addressing=addressing,
                     signed_payloads=signed_payloads, **settings))


def configure_azure(container: str, connection_string: Optional[str] = None,
                    **settings: Any) -> None:
    """Files go to az://container[/prefix]/<name>. The connection string (it contains ';', so it
    travels as AZURE_STORAGE_CONNECTION_STRING) or AZURE_STORAGE_* from the environment give the
    account. Takes effect at enable()."""
    container = container[len("az://"):] if container.startswith("az://") else container
    if not container.strip("/"):
        raise ValueError("configure_azure needs a container name")
    env = {"AZURE_STORAGE_CONNECTION_STRING": connection_string} if connection_string else {}
    _set_config("az://" + container.strip("/"), settings, env)


def configure_local(path: Any) -> None:
    """Files go to directories under `path` (created as needed). Takes effect at enable()."""
    p = Path(os.fspath(path)).expanduser().resolve()
    _set_config(str(p), {})


def connector_string() -> str:
    """The HDF5_VOL_CONNECTOR value enable() sets: "nimbus" or "nimbus store=URL;key=value"."""
    if not _config:
        return "nimbus"
    return "nimbus " + ";".join(f"{k}={v}" for k, v in _config.items())


# ------------------------------------------------------------------------------------------------
# Selecting nimbus for h5py


def _names_nimbus(value: Optional[str]) -> bool:
    if not value:
        return False
    s = value.lstrip(" \t")
    return s.startswith("nimbus") and (len(s) == 6 or s[6] in " \t")


def enable(patch_h5py: bool = True) -> None:
    """Selects nimbus for every HDF5 file of this process: sets HDF5_VOL_CONNECTOR (with the
    configure_*() settings), HDF5_PLUGIN_PATH and the store environment, then patches h5py's
    Group iteration (now if h5py is imported, else when it is). Must run before HDF5 initialises:
    if this process' HDF5 already started with another connector, raises RuntimeError."""
    directory = plugin_path()
    previous = {k: os.environ.get(k) for k in ("HDF5_VOL_CONNECTOR", "HDF5_PLUGIN_PATH",
                                               *_config_env)}
    os.environ["HDF5_VOL_CONNECTOR"] = connector_string()
    paths = [p for p in os.environ.get("HDF5_PLUGIN_PATH", "").split(":") if p]
    if directory not in paths:
        os.environ["HDF5_PLUGIN_PATH"] = ":".join([directory] + paths)
    os.environ.update(_config_env)

    active = _active_connector()
    reconfigured = (active == "nimbus" and previous["HDF5_VOL_CONNECTOR"] is not None
                    and previous["HDF5_VOL_CONNECTOR"].strip() != connector_string() and bool(_config))
    if active is not None and (active != "nimbus" or reconfigured):
        for k, v in previous.items():  # leave the environment as it was
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        started = (f"the '{active}' connector" if active != "nimbus" else
                   "another nimbus configuration than the configure_*() settings")
        raise RuntimeError(
            f"nimbus.enable() was called after HDF5 had already started with {started}"
            " (h5py reads HDF5_VOL_CONNECTOR once, when it is imported); call "
            "nimbus.enable() before importing h5py (or anything else that loads HDF5), or set "
            "HDF5_VOL_CONNECTOR=nimbus and HDF5_PLUGIN_PATH in the environment before starting "
            "Python")
    if patch_h5py:
        _patch_h5py_when_imported()


def _active_connector() -> Optional[str]:
    """The default VOL connector of this process' HDF5 if h5py (hence HDF5) is loaded, else None."""
    if "h5py" not in sys.modules:
        return None
    from nimbus import h5py_compat

    return h5py_compat.default_connector_name()


class _H5pyHook(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Patches h5py right after it is imported (so `import nimbus` never imports h5py itself)."""

    def __init__(self):
        self._busy = False
        self._spec = None

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "h5py" or self._busy:
            return None
        self._busy = True
        try:
            spec = importlib.util.find_spec("h5py")
        finally:
            self._busy = False
        if spec is None or spec.loader is None:
            return None
        self._spec = spec
        spec.loader = _WrappedLoader(spec.loader)
        return spec


class _WrappedLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _remove_hook()
        from nimbus import h5py_compat

        h5py_compat.patch()

    def __getattr__(self, name):
        return getattr(self._loader, name)


_hook: Optional[_H5pyHook] = None


def _remove_hook() -> None:
    global _hook
    if _hook is not None and _hook in sys.meta_path:
        sys.meta_path.remove(_hook)
    _hook = None


def _patch_h5py_when_imported() -> None:
    global _hook
    if "h5py" in sys.modules:
        from nimbus import h5py_compat

        h5py_compat.patch()
        return
    if _hook is None:
        _hook = _H5pyHook()
        sys.meta_path.insert(0, _hook)


if _names_nimbus(os.environ.get("HDF5_VOL_CONNECTOR")):
    try:
        _patch_h5py_when_imported()
    except Exception:  # never make `import nimbus` fail; iteration then stays stock h5py
        pass
