"""nimbus-store, the CLI the other integration tests drive: commands, output formats, exit codes.

The same checks run on a directory (file://, no server) and on MinIO (s3://).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)


class Store:
    """One store URL plus the settings nimbus-store needs for it."""

    def __init__(self, binary: Path, url: str, settings: list[str]):
        self.binary = binary
        self.url = url.rstrip("/")
        self.settings = settings

    def run(self, *args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
        command = [str(self.binary)]
        for setting in self.settings:
            command += ["--set", setting]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        return subprocess.run(
            command + list(args), input=stdin, capture_output=True, timeout=30, env=env
        )

    def ok(self, *args: str, stdin: bytes = b"") -> bytes:
        result = self.run(*args, stdin=stdin)
        assert result.returncode == 0, (args, result.stderr.decode(errors="replace"))
        return result.stdout

    def object(self, key: str) -> str:
        return f"{self.url}/{key}"


@pytest.fixture(params=["file", "s3"])
def store(request, built_binary, tmp_path, unique_prefix) -> Store:
    binary = built_binary("nimbus-store")
    if request.param == "file":
        root = tmp_path / "store"
        root.mkdir()
        return Store(binary, f"file://{root}", [])
    request.applymarker(pytest.mark.s3)
    s3 = request.getfixturevalue("s3_config")
    settings = [
        f"endpoint={s3.endpoint}",
        f"region={s3.region}",
        f"access_key_id={s3.access_key}",
        f"secret_access_key={s3.secret_key}",
    ]
    return Store(binary, f"s3://{s3.bucket}/{unique_prefix.rstrip('/')}", settings)


def test_put_get_head_roundtrip(store, tmp_path):
    data = os.urandom(300_000)
    source = tmp_path / "source"
    source.write_bytes(data)

    etag = store.ok("put", store.object("dir/blob"), str(source)).strip()
    assert etag

    assert store.ok("get", store.object("dir/blob")) == data
    assert store.ok("get", store.object("dir/blob"), "--range", "10-19") == data[10:20]
    assert store.ok("get", store.object("dir/blob"), "--range", "299990-") == data[299990:]
    assert store.ok("get", store.object("dir/blob"), "--range", "-7") == data[-7:]
    assert store.ok("get", store.object("dir/blob"), "--suffix", "5") == data[-5:]
    out = tmp_path / "out"
    assert store.ok("get", store.object("dir/blob"), "-o", str(out)) == b""
    assert out.read_bytes() == data

    info = json.loads(store.ok("head", "--json", store.object("dir/blob")))
    assert info["size"] == len(data)
    assert info["etag"] == etag.decode()
    assert info["key"].endswith("blob")
    assert b"size: 300000" in store.ok("head", store.object("dir/blob"))


def test_put_from_stdin_and_store_option(store):
    store.ok("--store", store.url, "put", "piped", "-", stdin=b"from stdin")
    assert store.ok("--store", store.url, "get", "piped") == b"from stdin"
    # Global options may also follow the command.
    assert store.ok("get", "piped", "--store", store.url) == b"from stdin"


def test_conditional_put(store):
    first = store.ok("put", store.object("cond"), "-", "--if-none-match", stdin=b"one").strip()

    again = store.run("put", store.object("cond"), "-", "--if-none-match", stdin=b"two")
    assert again.returncode == 1
    assert again.stderr.decode().startswith("nimbus-store: precondition failed")

    store.ok("put", store.object("cond"), "-", "--if-match", first.decode(), stdin=b"three")
    stale = store.run("put", store.object("cond"), "-", "--if-match", first.decode(), stdin=b"4")
    assert stale.returncode == 1 and b"precondition failed" in stale.stderr
    assert store.ok("get", store.object("cond")) == b"three"


def test_ls_and_rm(store):
    for key in ("a/1", "a/2", "b/c/3", "top"):
        store.ok("put", store.object(key), "-", stdin=key.encode())

    listing = json.loads(store.ok("ls", "--json", store.url))
    assert [o["key"] for o in listing["objects"]] == ["top"]
    assert listing["common_prefixes"] == ["a/", "b/"]

    recursive = json.loads(store.ok("ls", "--json", "--recursive", store.url))
    assert [o["key"] for o in recursive["objects"]] == ["a/1", "a/2", "b/c/3", "top"]
    assert [o["size"] for o in recursive["objects"]] == [3, 3, 5, 3]

    under_a = json.loads(store.ok("ls", "--json", "-r", "--prefix", "a/", store.url))
    assert [o["key"] for o in under_a["objects"]] == ["a/1", "a/2"]

    text = store.ok("ls", store.url).decode()
    assert "PRE  a/" in text and text.rstrip().endswith("top")

    store.ok("rm", store.object("a/1"), store.object("b/c/3"), store.object("never-existed"))
    left = json.loads(store.ok("ls", "--json", "-r", store.url))
    assert [o["key"] for o in left["objects"]] == ["a/2", "top"]


def test_errors_and_exit_codes(store):
    missing = store.run("get", store.object("no/such/key"))
    assert missing.returncode == 1
    assert missing.stderr.decode().startswith("nimbus-store: not found")
    assert missing.stdout == b""

    head_missing = store.run("head", store.object("no/such/key"))
    assert head_missing.returncode == 1 and b"not found" in head_missing.stderr

    for usage in (
        [],
        ["frobnicate"],
        ["get"],
        ["get", store.object("k"), "--range", "9-1"],
        ["get", store.object("k"), "--range", "1-2", "--suffix", "3"],
        ["put", store.object("k"), "-", "--if-none-match", "--if-match", "x"],
        ["--set", "novalue", "get", store.object("k")],
    ):
        result = store.run(*usage)
        assert result.returncode == 2, (usage, result.stderr)
