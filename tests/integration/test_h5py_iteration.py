"""Group iteration, visit and path `in` for h5py on nimbus files through `import nimbus`
(issue #4 item 5; notes/hdf5-vol.md §10.3).

Stock h5py calls HDF5's 1.10-era iteration API, which HDF5 refuses for non-native connectors;
nimbus.h5py_compat patches h5py's Group methods to use H5Literate2 / H5Ovisit3 / H5Lvisit2 /
H5Lexists on h5py's own libhdf5, for nimbus files only. Each scenario runs in its own Python
subprocess because h5py reads HDF5_VOL_CONNECTOR once, at import.
"""

from __future__ import annotations

from typing import Dict

import pytest

from conftest import build_dir
from h5py_stores import PLUGIN_DIR, STORE_KINDS, clean_environment, make_store, run_scenario
from h5py_stores import plugin_built  # noqa: F401  (autouse fixture)

PRELUDE = '''
import os, sys
import numpy as np
PREFIX = os.environ.get("NIMBUS_TEST_NAME_PREFIX", "")
def name(n):
    return PREFIX + n
def build_tree(f):
    """Nested groups and datasets created out of name order."""
    for n in ("zeta", "alpha", "mid"):
        f.create_group(n)
    f["alpha"].create_dataset("d1", data=np.arange(3))
    f["alpha"].create_group("sub/leaf")          # intermediate groups
    f["alpha/sub"].create_dataset("data", data=[1.5])
    f.create_dataset("top", data=[7])
    f["mid"].attrs["a"] = 1
'''

TREE_OBJECTS = ["alpha", "alpha/d1", "alpha/sub", "alpha/sub/data", "alpha/sub/leaf", "mid",
                "top", "zeta"]


def run(code: str, env: Dict[str, str], timeout: int = 180) -> str:
    return run_scenario(PRELUDE, code, env, timeout)


def base_environment() -> Dict[str, str]:
    """No store or HDF5 configuration of the test process; the repo's nimbus package importable."""
    env = clean_environment(None, python_path=True, drop=("NIMBUS_PLUGIN_PATH",))
    env["NIMBUS_BUILD_DIR"] = str(build_dir())
    return env


@pytest.fixture(params=STORE_KINDS)
def nimbus_env(request, tmp_path) -> Dict[str, str]:
    """Environment selecting nimbus the usual way (variables set before Python starts)."""
    env = base_environment()
    env.update(HDF5_PLUGIN_PATH=str(PLUGIN_DIR), HDF5_VOL_CONNECTOR="nimbus")
    return make_store(request, tmp_path, PRELUDE, env).env


def test_keys_iteration_and_views_on_nested_groups(nimbus_env):
    run('''
    import nimbus
    import h5py
    from nimbus import h5py_compat
    assert h5py_compat.is_patched()
    with h5py.File(name("iter.h5"), "w") as f:
        build_tree(f)
        assert h5py_compat.is_nimbus(f) and h5py_compat.is_nimbus(f["alpha"])
        assert list(f) == ["alpha", "mid", "top", "zeta"]          # index order by name
        assert list(f.keys()) == ["alpha", "mid", "top", "zeta"] and len(f) == 4
        assert list(reversed(f)) == ["zeta", "top", "mid", "alpha"]
        assert list(reversed(f.keys())) == ["zeta", "top", "mid", "alpha"]
        assert list(f["alpha"]) == ["d1", "sub"] and list(f["alpha/sub"].keys()) == ["data", "leaf"]
        assert list(f["zeta"]) == [] and len(f["zeta"]) == 0
        assert "mid" in f.keys() and "nope" not in f.keys()
        items = dict(f["alpha"].items())
        assert sorted(items) == ["d1", "sub"]
        assert isinstance(items["d1"], h5py.Dataset) and items["d1"][...].tolist() == [0, 1, 2]
        assert isinstance(items["sub"], h5py.Group) and items["sub"].name == "/alpha/sub"
        vals = list(f["alpha/sub"].values())
        assert [v.name for v in vals] == ["/alpha/sub/data", "/alpha/sub/leaf"]
        assert vals[0][...].tolist() == [1.5]
        # Deleting and adding shows up in the next listing.
        del f["top"]
        f["mid"].create_dataset("m", data=[1])
        assert list(f) == ["alpha", "mid", "zeta"] and list(f["mid"]) == ["m"]
    with h5py.File(name("iter.h5"), "r") as f:           # and after reopening
        assert list(f) == ["alpha", "mid", "zeta"]
        assert [k for k, _ in f["alpha"].items()] == ["d1", "sub"]
    ''', nimbus_env)


def test_contains_with_paths_and_require_with_paths(nimbus_env):
    run('''
    import nimbus
    import h5py
    with h5py.File(name("paths.h5"), "w") as f:
        build_tree(f)
        a = f["alpha"]
        for path, want in [("alpha", True), ("alpha/sub", True), ("alpha/sub/leaf", True),
                           ("alpha/sub/data", True), ("/alpha/d1", True), ("alpha//sub/", True),
                           ("./alpha/./sub", True), ("alpha/missing", False),
                           ("missing/sub", False), ("alpha/d1/x", False), ("", False),
                           ("/", True), ("zeta/leaf", False)]:
            assert (path in f) is want, (path, want)
        assert "sub/leaf" in a and "/alpha/sub" in a and "/mid" in a and "sub/nope" not in a
        assert b"sub/data" in a
        # require_* and create_dataset with paths rely on `in`.
        g = f.require_group("alpha/sub/leaf")
        assert g.name == "/alpha/sub/leaf"
        g2 = f.require_group("new/deep/group")
        assert g2.name == "/new/deep/group" and "new/deep" in f
        d = f.create_dataset("alpha/sub/more/ds", data=np.arange(4))
        assert d.name == "/alpha/sub/more/ds" and "alpha/sub/more/ds" in f
        d2 = f.require_dataset("alpha/sub/more/ds", shape=(4,), dtype=d.dtype)
        assert d2[...].tolist() == [0, 1, 2, 3]
        try:
            f.require_group("alpha/d1")
        except TypeError:
            pass
        else:
            raise AssertionError("require_group on a dataset path succeeded")
        assert f.get("alpha/sub", getclass=True) is h5py.Group
        assert f.get("alpha/d1", getclass=True) is h5py.Dataset
        assert f.get("alpha/nothing", getclass=True) is None
        assert isinstance(f.get("alpha/d1", getlink=True), h5py.HardLink)
        assert f.get("alpha/d1", getlink=True, getclass=True) is h5py.HardLink
        assert f.get("nope", default=5) == 5
    ''', nimbus_env)


def test_visit_and_visititems(nimbus_env):
    run(f'''
    import nimbus
    import h5py
    with h5py.File(name("visit.h5"), "w") as f:
        build_tree(f)
        seen = []
        assert f.visit(seen.append) is None
        assert seen == {TREE_OBJECTS!r}
        sub = []
        f["alpha"].visit(sub.append)
        assert sub == ["d1", "sub", "sub/data", "sub/leaf"]
        kinds = {{}}
        f.visititems(lambda n, o: kinds.__setitem__(n, (type(o).__name__, o.name)))
        assert sorted(kinds) == {TREE_OBJECTS!r}
        assert kinds["alpha/sub/data"] == ("Dataset", "/alpha/sub/data")
        assert kinds["alpha/sub/leaf"] == ("Group", "/alpha/sub/leaf")
        # A non-None return stops the walk and is returned.
        calls = []
        def find(n, o):
            calls.append(n)
            return o.name if isinstance(o, h5py.Dataset) else None
        assert f.visititems(find) == "/alpha/d1" and calls == ["alpha", "alpha/d1"]
        assert f.visit(lambda n: n if n.endswith("leaf") else None) == "alpha/sub/leaf"
        # Exceptions raised by the callback propagate unchanged.
        class Boom(Exception):
            pass
        def bad(n):
            raise Boom(n)
        try:
            f.visit(bad)
        except Boom as e:
            assert str(e) == "alpha"
        else:
            raise AssertionError("exception swallowed")
        links = []
        f.visit_links(links.append)
        assert links == {TREE_OBJECTS!r}
        got = {{}}
        f.visititems_links(lambda n, l: got.__setitem__(n, type(l).__name__))
        assert set(got.values()) == {{"HardLink"}} and sorted(got) == {TREE_OBJECTS!r}
        assert list(f) == ["alpha", "mid", "top", "zeta"]  # usable after the exception
    ''', nimbus_env)


def test_stock_h5py_still_refuses_without_the_patch(nimbus_env):
    """What the patch fixes: unpatched h5py fails on the same file (guards the test's meaning)."""
    run('''
    import h5py
    import nimbus
    from nimbus import h5py_compat
    h5py_compat.unpatch()
    with h5py.File(name("stock.h5"), "w") as f:
        build_tree(f)
        for action in (lambda: list(f), lambda: f.visit(print), lambda: "alpha/sub" in f):
            try:
                action()
            except Exception as e:
                assert "native VOL connector" in str(e) or "native" in str(e), e
            else:
                raise AssertionError("stock h5py iterated a nimbus file")
        h5py_compat.patch()
        assert list(f) == ["alpha", "mid", "top", "zeta"] and "alpha/sub" in f
    ''', nimbus_env)


def test_native_files_keep_stock_behaviour(tmp_path):
    """A patched h5py on native HDF5 files (nimbus in the plugin path but not selected) uses
    h5py's own code: same results, native-only features (soft links) intact."""
    env = base_environment()
    env["HDF5_PLUGIN_PATH"] = str(PLUGIN_DIR)
    path = tmp_path / "native.h5"
    run(f'''
    import nimbus
    import h5py
    from nimbus import h5py_compat
    h5py_compat.patch()
    with h5py.File({str(path)!r}, "w") as f:
        f.create_group("b")
        f.create_group("a/inner")
        f.create_dataset("c", data=[1])
        assert not h5py_compat.is_nimbus(f)
        assert list(f) == ["a", "b", "c"] and list(reversed(f)) == ["c", "b", "a"]
        assert "a/inner" in f and "a/nope" not in f
        seen = []
        f.visit(seen.append)
        assert seen == ["a", "a/inner", "b", "c"]
        assert f.get("c", getclass=True) is h5py.Dataset
        f["soft"] = h5py.SoftLink("/a")          # native-only feature still works
        assert isinstance(f.get("soft", getlink=True), h5py.SoftLink)
        # Calls went to h5py's originals (stock behaviour), not the VOL-safe path.
        import nimbus.h5py_compat as hc
        calls = []
        real = hc.link_names
        hc.link_names = lambda *a, **k: calls.append(a) or real(*a, **k)
        list(f)
        assert calls == []
    ''', env)
    with open(path, "rb") as fh:
        assert fh.read(8) == b"\x89HDF\r\n\x1a\n"


def test_configure_local_enable_and_round_trip(tmp_path):
    """nimbus.configure_local + enable() before importing h5py: files become Zarr directories
    under the configured path, and iteration works."""
    env = base_environment()
    store = tmp_path / "store"
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    run(f'''
    import nimbus
    nimbus.configure_local({str(store)!r})
    nimbus.enable()
    assert os.environ["HDF5_VOL_CONNECTOR"] == "nimbus store=" + {str(store)!r}
    assert os.environ["HDF5_PLUGIN_PATH"].split(":")[0] == nimbus.plugin_path()
    assert "sys" and "h5py" not in sys.modules
    import h5py
    from nimbus import h5py_compat
    assert h5py_compat.is_patched() and h5py_compat.default_connector_name() == "nimbus"
    with h5py.File("run.h5", "w") as f:
        build_tree(f)
    with h5py.File("run.h5", "r") as f:
        assert list(f) == ["alpha", "mid", "top", "zeta"]
        assert f["alpha/d1"][...].tolist() == [0, 1, 2] and "alpha/sub/leaf" in f
    nimbus.enable()     # again, after h5py started with nimbus: harmless
    ''', env)
    assert (store / "run.h5" / "zarr.json").is_file()
    assert (store / "run.h5" / "alpha" / "d1" / "zarr.json").is_file()
    assert not (cwd / "run.h5").exists()


def test_configure_s3_enable_round_trip(s3_config, unique_prefix):
    env = base_environment()
    run(f'''
    import nimbus
    nimbus.configure_s3({s3_config.bucket!r}, endpoint={s3_config.endpoint!r},
                        region={s3_config.region!r}, access_key_id={s3_config.access_key!r},
                        secret_access_key={s3_config.secret_key!r}, addressing="path",
                        signed_payloads=True, max_attempts=2)
    nimbus.enable()
    s = os.environ["HDF5_VOL_CONNECTOR"]
    assert s.startswith("nimbus store=s3://{s3_config.bucket};endpoint=") and "signed_payloads=true" in s
    import h5py
    with h5py.File({unique_prefix + "cfg.h5"!r}, "w") as f:
        build_tree(f)
    with h5py.File("s3://{s3_config.bucket}/{unique_prefix}cfg.h5", "r") as f:
        assert list(f) == ["alpha", "mid", "top", "zeta"]
        seen = []
        f.visit(seen.append)
        assert seen == {TREE_OBJECTS!r}
    ''', env)


def test_enable_after_h5py_started_natively_raises(tmp_path):
    env = base_environment()
    out = run(f'''
    import h5py
    with h5py.File({str(tmp_path / "n.h5")!r}, "w") as f:
        f.create_group("g")
    import nimbus
    nimbus.configure_local({str(tmp_path / "store")!r})
    try:
        nimbus.enable()
    except RuntimeError as e:
        print("ERROR:", e)
    else:
        raise AssertionError("enable() after h5py initialised natively succeeded")
    assert "HDF5_VOL_CONNECTOR" not in os.environ          # environment left as it was
    with h5py.File({str(tmp_path / "n.h5")!r}, "r") as f:    # h5py still works natively
        assert list(f) == ["g"]
    ''', env)
    err = [line for line in out.splitlines() if line.startswith("ERROR:")][0]
    assert "before importing h5py" in err and "'native'" in err, err


def test_enable_without_a_plugin_is_a_clear_error(tmp_path):
    env = base_environment()
    env["NIMBUS_BUILD_DIR"] = str(tmp_path / "nobuild")
    env["NIMBUS_PLUGIN_PATH"] = str(tmp_path / "nothing")
    code = '''
    import nimbus
    try:
        nimbus.plugin_path()
    except FileNotFoundError as e:
        assert "libnimbus_vol.so" in str(e) and "NIMBUS_PLUGIN_PATH" in str(e), e
    '''
    # The repo's build tree is found relative to the package, so only check the error's shape
    # when it is absent; otherwise plugin_path() must name a directory holding the plugin.
    run(code + '''
    else:
        assert os.path.isfile(os.path.join(nimbus.plugin_path(), "libnimbus_vol.so"))
    ''', env)


def test_configure_rejects_settings_that_break_the_connector_string():
    env = base_environment()
    run('''
    import nimbus
    for call in (lambda: nimbus.configure_s3("b", endpoint="http://x;y"),
                 lambda: nimbus.configure_s3(""),
                 lambda: nimbus.configure_azure("c", sas_token="a;b")):
        try:
            call()
        except ValueError:
            pass
        else:
            raise AssertionError("accepted")
    nimbus.configure_azure("az://cont", connection_string="UseDevelopmentStorage=true;X=1",
                           max_connections=4)
    assert nimbus.connector_string() == "nimbus store=az://cont;max_connections=4"
    ''', env)
