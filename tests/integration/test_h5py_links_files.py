"""Links, objects and files through stock h5py on nimbus (issue #4 items 3, 5, 6): soft links,
move/rename, copy, delete, existence with paths, creation order, object identity, file modes and
lifecycle, store faults. On the file store and MinIO; where the on-store representation matters
(docs/format.md "Links"), the keys are checked from outside.

Each scenario runs in its own Python subprocess (h5py reads HDF5_VOL_CONNECTOR once, at import),
with `import nimbus` routing h5py's 1.10-era iteration calls (keys(), visit, get(getlink=True), ...)
through HDF5's VOL-safe API (python/nimbus/h5py_compat.py).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from typing import Any, Dict, Set

import pytest

from conftest import build_dir
from h5py_stores import STORE_KINDS, Store, clean_environment, make_store
from h5py_stores import plugin_built  # noqa: F401  (autouse fixture)

PRELUDE = '''
import os, sys, time
import numpy as np
import h5py
import nimbus
PREFIX = os.environ["NIMBUS_TEST_NAME_PREFIX"]
def name(n):
    """A file name under the configured bucket/directory, unique to this test."""
    return PREFIX + n
def raises(exc, fn, *words):
    """fn() must raise exc; its message must contain every word."""
    try:
        fn()
    except exc as e:
        for w in words:
            assert w in str(e), (w, str(e))
        return e
    raise AssertionError(f"no {exc.__name__} from {fn}")
'''


@dataclasses.dataclass
class KeyedStore(Store):
    """A Store whose keys can be read from outside (docs/format.md "Links")."""
    client: Any = None  # the S3 client (S3 only)

    def list_keys(self, fname: str) -> Set[str]:
        """Keys under a file, relative to it."""
        if self.root is not None:
            top = self.root / fname
            return {str(p.relative_to(top)) for p in top.rglob("*") if p.is_file()}
        top = self.prefix + fname + "/"
        keys: Set[str] = set()
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.env["BUCKET_NAME"], Prefix=top)
        for page in pages:
            keys.update(o["Key"][len(top):] for o in page.get("Contents", []))
        return keys

    def read_key(self, path: str) -> bytes:
        """One object by "<file name>/<key>" (prefix implied)."""
        if self.root is not None:
            return (self.root / path).read_bytes()
        return self.client.get_object(Bucket=self.env["BUCKET_NAME"], Key=self.prefix + path)[
            "Body"].read()

    def zarr_json(self, path: str) -> dict:
        return json.loads(self.read_key(path + "/zarr.json"))


def base_environment() -> Dict[str, str]:
    return clean_environment(python_path=True)


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path) -> KeyedStore:
    store = make_store(request, tmp_path, PRELUDE, base_environment(), KeyedStore)
    if store.kind == "s3":
        store.client = request.getfixturevalue("s3_client")
    return store


# ------------------------------------------------------------------------------------------------
# Soft links


def test_soft_links_resolve_dangle_and_are_stored_in_the_parent_group(store):
    store.run('''
    with h5py.File(name("soft.h5"), "w") as f:
        f.create_group("data/run1")
        d = f["data/run1"].create_dataset("values", data=np.arange(6, dtype="i4"))
        d.attrs["unit"] = "m"
        f["latest"] = h5py.SoftLink("/data/run1")          # absolute
        f["data/rel"] = h5py.SoftLink("run1/values")       # relative to the link's group
        f["dangling"] = h5py.SoftLink("/not/there")
        f["chain"] = h5py.SoftLink("/latest")               # a link to a link

        # Opening through links: groups, datasets, paths through links, links to links.
        assert isinstance(f["latest"], h5py.Group) and isinstance(f["data/rel"], h5py.Dataset)
        assert f["latest/values"][...].tolist() == [0, 1, 2, 3, 4, 5]
        assert f["data/rel"][2] == 2 and f["chain/values"][5] == 5
        assert f["latest"]["values"].attrs["unit"] == "m"
        # HDF5 names an object by the path it was opened with.
        assert f["latest"].name == "/latest" and f["latest/values"].name == "/latest/values"
        assert f["latest"] == f["data/run1"]                # same object, same token
        # Writes through a link reach the target.
        f["latest/values"][0] = 100
        assert f["data/run1/values"][0] == 100

        # Membership and get: dangling links exist as links only.
        assert "latest" in f and "latest/values" in f and "data/rel" in f
        assert "dangling" not in f and "latest/nope" not in f
        assert f.get("dangling") is None
        link = f.get("latest", getlink=True)
        assert isinstance(link, h5py.SoftLink) and link.path == "/data/run1"
        assert f.get("data/rel", getlink=True).path == "run1/values"
        assert isinstance(f.get("data", getlink=True), h5py.HardLink)
        assert f.get("latest", getclass=True) is h5py.Group
        assert f.get("latest", getclass=True, getlink=True) is h5py.SoftLink
        assert f.get("data/rel", getclass=True) is h5py.Dataset
        raises(KeyError, lambda: f["dangling"])

        # Listing: soft links are members; visit follows hard links only, visit_links lists all.
        assert list(f.keys()) == ["chain", "dangling", "data", "latest"]
        assert len(f) == 4 and list(f["data"]) == ["rel", "run1"]
        seen = []
        f.visit(seen.append)
        assert seen == ["data", "data/run1", "data/run1/values"], seen
        links = []
        f.visit_links(links.append)
        assert links == ["chain", "dangling", "data", "data/rel", "data/run1", "data/run1/values",
                         "latest"], links

        # Creating through a soft link creates in its target; names stay unique.
        f.create_group("latest/sub")
        assert "data/run1/sub" in f
        raises(ValueError, lambda: f.create_group("latest"), "already exists")
        raises((ValueError, OSError), lambda: f.__setitem__("latest", h5py.SoftLink("/x")),
               "already exists")

        # Deleting a soft link leaves its target alone.
        del f["chain"]
        assert "chain" not in f and "latest" in f and "data/run1/values" in f
    with h5py.File(name("soft.h5"), "r") as f:
        assert f["latest/values"][0] == 100
        # h5py's get() answers `default` for a dangling link (it checks `in` first); the link
        # itself is there: H5Lget_val.
        assert f.get("dangling", getlink=True) is None
        assert nimbus.h5py_compat.link_object(f, b"dangling").path == "/not/there"
    ''')
    # The representation: entries of the parent group's "_nimbus"."links"; no key of their own.
    root = store.zarr_json("soft.h5")["attributes"]["_nimbus"]
    assert root["has_soft_links"] is True and root["kind"] == "file"
    assert root["links"] == {"dangling": {"class": "soft", "target": "/not/there"},
                             "latest": {"class": "soft", "target": "/data/run1"}}
    data = store.zarr_json("soft.h5/data")["attributes"]["_nimbus"]
    assert data["links"] == {"rel": {"class": "soft", "target": "run1/values"}}
    keys = store.list_keys("soft.h5")
    assert not any(k.startswith(("latest/", "dangling/", "data/rel/")) for k in keys), keys
    assert "data/run1/values/zarr.json" in keys and "data/run1/sub/zarr.json" in keys


def test_hard_and_external_links_are_refused_clearly(store):
    store.run('''
    with h5py.File(name("refused.h5"), "w") as f:
        g = f.create_group("g")
        raises(Exception, lambda: f.__setitem__("alias", g), "exactly one hard link", "soft link")
        raises(Exception, lambda: f.__setitem__("ext", h5py.ExternalLink("other.h5", "/x")),
               "external links are not supported")
        assert "alias" not in f and "ext" not in f and list(f) == ["g"]
    ''')


# ------------------------------------------------------------------------------------------------
# Move, copy, delete


def test_move_renames_whole_subtrees_and_open_handles_follow(store):
    store.run('''
    with h5py.File(name("move.h5"), "w") as f:
        g = f.create_group("a")
        g.attrs["tag"] = "group a"
        d = g.create_dataset("b/data", data=np.arange(100).reshape(10, 10), chunks=(5, 5))
        d.attrs["scale"] = 2.5
        g["b/link"] = h5py.SoftLink("data")
        f.move("a", "x/y/renamed")                      # new intermediate groups
        assert "a" not in f and "x/y/renamed/b/data" in f
        # Handles opened before the move refer to the moved objects.
        assert g.name == "/x/y/renamed" and d.name == "/x/y/renamed/b/data"
        assert d[3, 4] == 34 and d.attrs["scale"] == 2.5
        d[0, 0] = -1
        assert f["x/y/renamed/b/data"][0, 0] == -1
        assert f["x/y/renamed"].attrs["tag"] == "group a"
        assert f["x/y/renamed/b/link"][9, 9] == 99      # relative link moved with its group
        # Datasets and soft links move too; a move onto an existing name or into itself fails.
        f.move("x/y/renamed/b/data", "top")
        assert f["top"][1, 2] == 12 and "x/y/renamed/b/data" not in f
        assert "x/y/renamed/b/link" not in f            # now dangling
        f.move("x/y/renamed/b/link", "link2")
        assert nimbus.h5py_compat.link_object(f, b"link2").path == "data"
        f.create_group("other")
        raises(ValueError, lambda: f.move("top", "other"), "already exists")
        raises(ValueError, lambda: f.move("x", "x/inside"), "into itself")
        raises(ValueError, lambda: f.move("missing", "m2"), "doesn't exist")
        f.move("top", "top")                              # h5py: same name is a no-op
    with h5py.File(name("move.h5"), "r") as f:
        # h5py picks the class from HDF5's own entry for H5Lmove (ValueError); ours says why.
        raises(ValueError, lambda: f.move("top", "t3"), "read-only", "errno = 13")
        assert f["top"][0, 0] == -1 and sorted(f) == ["link2", "other", "top", "x"]
    ''')
    keys = store.list_keys("move.h5")
    assert not any(k.startswith("a/") for k in keys), keys
    assert "top/zarr.json" in keys and any(k.startswith("top/c/") for k in keys), keys
    assert "x/y/renamed/zarr.json" in keys and "x/y/renamed/b/zarr.json" in keys
    assert store.zarr_json("move.h5/x/y/renamed")["attributes"]["tag"] == "group a"


def test_copy_groups_recursively_with_attributes_links_and_options(store):
    store.run('''
    with h5py.File(name("copy.h5"), "w") as f:
        src = f.create_group("src")
        src.attrs["kind"] = "source"
        src.create_dataset("d", data=np.arange(20, dtype="f8"), chunks=(4,), compression="gzip")
        src["d"].attrs["u"] = 1
        src.create_group("inner/deep").create_dataset("e", data=[1, 2, 3])
        src["alias"] = h5py.SoftLink("inner")

        f.copy("src", "dst")
        assert f["dst"].attrs["kind"] == "source" and f["dst/d"].attrs["u"] == 1
        assert np.array_equal(f["dst/d"][...], np.arange(20)) and f["dst/d"].compression == "gzip"
        assert f["dst/inner/deep/e"][...].tolist() == [1, 2, 3]
        assert f.get("dst/alias", getlink=True).path == "inner"  # links copied as links
        assert f["dst"] != f["src"]
        f["dst/d"][0] = 99                                # copies are independent
        assert f["src/d"][0] == 0

        f.copy(f["src/d"], f["dst/inner"], name="d_copy")   # object -> group, with a name
        assert f["dst/inner/d_copy"][19] == 19
        f.copy("src", "bare", without_attrs=True)
        assert len(f["bare"].attrs) == 0 and len(f["bare/d"].attrs) == 0
        f.copy("src", "shallow", shallow=True)
        assert "shallow/d" in f and "shallow/inner" in f and "shallow/inner/deep" not in f
        f.copy("src", "expanded", expand_soft=True)
        assert isinstance(f.get("expanded/alias", getlink=True), h5py.HardLink)
        assert f["expanded/alias/deep/e"][2] == 3
        raises(RuntimeError, lambda: f.copy("src", "dst"), "already exists")
        raises(Exception, lambda: f.copy("src", "src/inner/again"), "into itself")

        # Into another file of the same store.
        with h5py.File(name("copy2.h5"), "w") as g:
            f.copy(f["src"], g, name="imported")
            assert g["imported/inner/deep/e"][0] == 1 and g["imported"].attrs["kind"] == "source"
            assert g.get("imported/alias", getlink=True).path == "inner"
            assert g["imported/alias/deep/e"][1] == 2   # the copied link resolves in the new file
    ''')
    keys = store.list_keys("copy.h5")
    assert {k for k in keys if k.startswith("dst/d/c/")} == {k.replace("src/", "dst/", 1)
                                                           for k in keys if k.startswith("src/d/c/")}
    assert store.zarr_json("copy2.h5")["attributes"]["_nimbus"]["has_soft_links"]


def test_delete_removes_every_key_of_the_subtree(store):
    store.run('''
    with h5py.File(name("del.h5"), "w") as f:
        f.create_dataset("keep", data=[1])
        g = f.create_group("g")
        g.create_dataset("big", data=np.zeros((40, 40)), chunks=(10, 10))
        g["big"][...] = 1
        g.create_group("sub/subsub").attrs["x"] = 1
        g["sl"] = h5py.SoftLink("/keep")
        del f["g/sl"]
        assert "g/sl" not in f and "keep" in f
        del f["g"]
        assert "g" not in f and list(f) == ["keep"]
        raises(KeyError, lambda: f.__delitem__("g"))
        f.create_group("g")                       # the name is free again, and empty
        assert len(f["g"]) == 0
    ''')
    keys = store.list_keys("del.h5")
    assert keys == {"zarr.json", "keep/zarr.json", "keep/c/0", "g/zarr.json"}, keys


# ------------------------------------------------------------------------------------------------
# Names, existence, require_*


def test_exists_with_paths_get_and_require(store):
    store.run('''
    with h5py.File(name("req.h5"), "w") as f:
        f.create_group("a/b/c")
        f.create_dataset("a/d", data=np.arange(4, dtype="i2"))
        for path, want in [("a", True), ("a/b/c", True), ("/a/b", True), ("a/d", True),
                           ("a/x/c", False), ("x/y", False), ("a/d/z", False), ("a/b/c/", True)]:
            assert (path in f) == want, path
        assert "b/c" in f["a"] and "c" not in f["a"]
        assert f.get("a/b", getclass=True) is h5py.Group and f.get("zz", default=7) == 7
        assert f.require_group("a/b") == f["a/b"]
        assert f.require_group("new/grp").name == "/new/grp"
        raises(TypeError, lambda: f.require_group("a/d"), "Incompatible object")
        d = f.require_dataset("a/d", shape=(4,), dtype="i2")
        assert d == f["a/d"] and d[...].tolist() == [0, 1, 2, 3]
        assert f.require_dataset("a/d", shape=(4,), dtype="i1").dtype == np.int16
        raises(TypeError, lambda: f.require_dataset("a/d", shape=(5,), dtype="i2"), "Shapes")
        raises(TypeError, lambda: f.require_dataset("a/d", shape=(4,), dtype="i1", exact=True),
               "exactly")
        raises(TypeError, lambda: f.require_dataset("a/d", shape=(4,), dtype="S3"), "cast")
        raises(TypeError, lambda: f.require_dataset("a/b", shape=(4,), dtype="i2"), "Incompatible")
        made = f.require_dataset("made", shape=(2, 3), dtype="f4")
        assert made.shape == (2, 3) and f["made"].dtype == np.float32
    ''')


def test_identity_names_parents_and_files(store):
    store.run('''
    f = h5py.File(name("ident.h5"), "w")
    g = f.create_group("g")
    d = g.create_dataset("d", data=[1.0])
    assert d.file == f and d.file.filename == name("ident.h5") and g.file.mode == "r+"
    assert d.parent == g and d.parent.parent == f["/"] and f["/"].name == "/"
    assert d.name == "/g/d" and f["g"]["d"].name == "/g/d"
    f.close()
    # Two opens of the same file: objects compare and hash equal (token + file number).
    f1 = h5py.File(name("ident.h5"), "r")
    f2 = h5py.File(name("ident.h5"), "r")
    assert f1["g/d"] == f2["g/d"] and hash(f1["g"]) == hash(f2["g"])
    assert f1["g"].id.fileno == f2["g"].id.fileno and f1["g"] != f1["g/d"]
    assert len({f1["g"], f2["g"], f1["/g"]}) == 1
    f1.close(); f2.close()
    with h5py.File(name("ident-other.h5"), "w") as other:
        other.create_group("g")
        with h5py.File(name("ident.h5"), "r") as f:
            assert other["g"] != f["g"]                 # same path, other file
    ''')


def test_track_order_lists_links_in_creation_order(store):
    store.run('''
    with h5py.File(name("order.h5"), "w", track_order=True) as f:
        for n in ["zebra", "apple", "mango"]:
            f.create_group(n)
        f["link"] = h5py.SoftLink("/apple")
        f.create_dataset("data", data=[1])
        g = f.create_group("ordered", track_order=True)
        for n in ["3", "1", "2"]:
            g.create_dataset(n, data=[int(n)])
        plain = f.create_group("plain")
        for n in ["b", "a"]:
            plain.create_group(n)
        assert list(f) == ["zebra", "apple", "mango", "link", "data", "ordered", "plain"]
        assert list(reversed(f))[0] == "plain"
        assert list(g) == ["3", "1", "2"] and list(plain) == ["a", "b"]
        f.move("apple", "apple2")                       # a moved link is new in its group
        assert list(f)[-1] == "apple2"
    with h5py.File(name("order.h5"), "r") as f:
        assert list(f) == ["zebra", "mango", "link", "data", "ordered", "plain", "apple2"]
        assert list(f["ordered"]) == ["3", "1", "2"]
        assert [k for k, _ in f["ordered"].items()] == ["3", "1", "2"]
    ''')
    order = store.zarr_json("order.h5/ordered")["attributes"]["_nimbus"]
    assert order["link_creation_order"]["order"] == {"3": 0, "1": 1, "2": 2}
    assert "link_creation_order" not in store.zarr_json("order.h5/plain")[
        "attributes"]["_nimbus"]


# ------------------------------------------------------------------------------------------------
# Files


def test_file_modes_truncate_exclusive_append_and_read_only(store):
    store.run('''
    raises(FileNotFoundError, lambda: h5py.File(name("m.h5"), "r"), "m.h5")
    raises(FileNotFoundError, lambda: h5py.File(name("m.h5"), "r+"))
    assert not h5py.is_hdf5(name("m.h5"))
    with h5py.File(name("m.h5"), "a") as f:             # 'a' creates
        f.create_dataset("old", data=np.arange(50), chunks=(10,))
        f["soft"] = h5py.SoftLink("/old")
        assert f.mode == "r+" and f.filename == name("m.h5")
    assert h5py.is_hdf5(name("m.h5"))
    with h5py.File(name("m.h5"), "a") as f:             # 'a' opens
        assert f["soft"][49] == 49
    raises(FileExistsError, lambda: h5py.File(name("m.h5"), "x"), "already exists")
    raises(FileExistsError, lambda: h5py.File(name("m.h5"), "w-"))
    with h5py.File(name("m.h5"), "r") as f:
        assert f.mode == "r"
        raises(Exception, lambda: f.create_group("g"), "read-only")
        raises(Exception, lambda: f.__setitem__("s2", h5py.SoftLink("/old")), "read-only")
        raises(Exception, lambda: f.__delitem__("old"), "read-only")
        raises(Exception, lambda: f.copy("old", "c"), "read-only")
        raises(Exception, lambda: f.attrs.__setitem__("a", 1), "read-only")
        assert list(f) == ["old", "soft"]
    with h5py.File(name("m.h5"), "w") as f:             # 'w' truncates
        assert len(f) == 0 and "soft" not in f
        f.create_group("fresh")
    with h5py.File(name("m2.h5"), "x") as f:
        f.attrs["ok"] = 1
    ''')
    assert store.list_keys("m.h5") == {"zarr.json", "fresh/zarr.json"}
    root = store.zarr_json("m.h5")["attributes"]["_nimbus"]
    assert "links" not in root and "has_soft_links" not in root   # truncation starts afresh


def test_open_objects_counting_close_flush_and_refresh(store):
    store.run('''
    f = h5py.File(name("life.h5"), "w")
    count = lambda kind=h5py.h5f.OBJ_ALL: h5py.h5f.get_obj_count(f.id, kind)
    assert count() == 1 and count(h5py.h5f.OBJ_FILE) == 1
    g = f.create_group("g")
    d = g.create_dataset("d", data=np.arange(4), maxshape=(None,), chunks=(2,))
    a = d.attrs.create("x", 1)
    assert count(h5py.h5f.OBJ_GROUP) == 1 and count(h5py.h5f.OBJ_DATASET) == 1
    assert count(h5py.h5f.OBJ_DATASET | h5py.h5f.OBJ_GROUP) == 2
    names = sorted(h5py.h5i.get_name(i) for i in
                   h5py.h5f.get_obj_ids(f.id, h5py.h5f.OBJ_DATASET | h5py.h5f.OBJ_GROUP))
    assert names == [b"/g", b"/g/d"], names
    f.flush()
    # Another handle on the same file grows the dataset; refresh shows it.
    other = h5py.File(name("life.h5"), "r+")
    assert h5py.h5f.get_obj_count(other.id, h5py.h5f.OBJ_ALL) == 1   # counts are per handle
    od = other["g/d"]
    od.resize((6,))
    od[4:] = [40, 50]
    other.flush()
    d.id.refresh()
    assert d.shape == (6,) and d[...].tolist() == [0, 1, 2, 3, 40, 50]
    other.close()
    assert d[5] == 50                                    # the other handle's close left ours
    f.close()                                            # closes every object of the file
    assert not g.id.valid and not d.id.valid
    raises(Exception, lambda: d[0])
    with h5py.File(name("life.h5"), "r") as f:
        assert f["g/d"][...].tolist() == [0, 1, 2, 3, 40, 50]
    ''')


def test_c_program_links_objects_and_files(store):
    exe = build_dir() / "bin" / "vol_c_links_files"
    if not exe.is_file():
        pytest.fail(f"{exe} not built (run `make build`)", pytrace=False)
    r = subprocess.run([str(exe), store.prefix + "from_c_links.h5"], env=store.env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "checks passed" in r.stdout
    # The program deletes its file at the end (H5Fdelete): nothing is left on the store.
    assert store.list_keys("from_c_links.h5") == set()


# ------------------------------------------------------------------------------------------------
# Store faults: errors, never hangs


@pytest.mark.s3
@pytest.mark.timeout(120)
def test_store_faults_reach_h5py_as_oserrors_naming_the_store(s3_config, unique_prefix, tmp_path):
    from fault_proxy import Fault, FaultProxy

    env = base_environment()
    env.update(STORAGE_PLATFORM="S3", BUCKET_NAME=s3_config.bucket, AWS_S3_ADDRESSING_STYLE="path",
               AWS_ACCESS_KEY_ID=s3_config.access_key, AWS_SECRET_ACCESS_KEY=s3_config.secret_key,
               AWS_REGION=s3_config.region, NIMBUS_TEST_NAME_PREFIX=unique_prefix)
    # Quick retries and short deadlines, so that failing is fast.
    env["HDF5_VOL_CONNECTOR"] = ("nimbus retry_max_attempts=3;retry_initial_backoff_ms=10;"
                                 "retry_max_backoff_ms=50;deadline_ms=4000;stall_timeout_ms=1000;"
                                 "connect_timeout_ms=2000")
    upstream = s3_config.endpoint.split("://", 1)[1]
    with FaultProxy(upstream) as proxy:
        env["AWS_ENDPOINT_URL_S3"] = proxy.endpoint
        store = KeyedStore("s3", env, unique_prefix, None, PRELUDE)
        store.run('''
        with h5py.File(name("faults.h5"), "w") as f:
            f.create_dataset("d", data=np.arange(100), chunks=(10,))
        ''')
        # Every chunk read answers 503 SlowDown: retried, then an OSError naming store and status.
        proxy.add_fault(Fault.error(503, "SlowDown", "Please reduce your request rate",
                                    method="GET", path_contains="/d/c/", times=None))
        started = time.monotonic()
        out = store.run('''
        with h5py.File(name("faults.h5"), "r") as f:
            e = raises(OSError, lambda: f["d"][...])
            print("ERROR:", e)
        ''')
        assert time.monotonic() - started < 60
        message = out.split("ERROR:", 1)[1]
        assert "503" in message and "s3://" in message and "faults.h5/d" in message, message
        assert proxy.injected() >= 3                      # the retries happened
        proxy.clear_faults()
        # A store that stalls mid-body: abandoned after the stall timeout, an error within the
        # deadline, and the process exits cleanly.
        proxy.add_fault(Fault.stall(after_bytes=0, seconds=30, method="GET",
                                    path_contains="zarr.json", times=None))
        started = time.monotonic()
        out = store.run('''
        t = time.monotonic()
        e = raises(OSError, lambda: h5py.File(name("faults.h5"), "r"))
        print("ERROR:", e, "AFTER:", round(time.monotonic() - t, 1))
        ''', timeout=60)
        assert time.monotonic() - started < 40
        assert "zarr.json" in out.split("ERROR:", 1)[1], out
