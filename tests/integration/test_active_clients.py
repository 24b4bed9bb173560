"""nimbus-active with real clients: headless Chromium renders /redoc/ (every operation of
/openapi.json on the page, nothing loaded from elsewhere), and PyActiveStorage, unmodified in its own
venv (scripts/bootstrap makes it), computes means, minima and maxima of a netCDF4 variable on MinIO."""

import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import nimbus_cache, servers_required
from test_active import ActiveServer

PYACTIVESTORAGE_VENV = "venv-pyactivestorage-0.8.0"


def _chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def active_url(built_binary):
    # The same server helper as test_active.py (port 0, SIGTERM, clean exit checked).
    server = ActiveServer(built_binary("nimbus-active"))
    yield f"http://127.0.0.1:{server.port}"
    assert server.stop() == 0


def _operations(url):
    spec = json.loads(urllib.request.urlopen(url + "/openapi.json", timeout=10).read())
    assert spec["openapi"].startswith("3.")
    ops = []
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            if method in ("get", "post", "put", "delete", "patch", "head", "options"):
                ops.append((method.upper(), path, op))
    return ops


def test_redoc_page_renders_every_operation_without_external_resources(active_url, tmp_path):
    chromium = _chromium()
    if chromium is None:
        if servers_required():
            pytest.fail("chromium is not installed (scripts/bootstrap installs Debian's chromium)")
        pytest.skip("chromium is not installed")
    ops = _operations(active_url)
    assert any(p.startswith("/v1/") for _, p, _ in ops) and any(p.startswith("/v2/") for _, p, _ in ops)

    raw = urllib.request.urlopen(active_url + "/redoc/", timeout=10).read().decode()
    # Self-contained: no script, stylesheet, image or font fetched from another origin.
    external = re.findall(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+["']""", raw, re.I)
    assert external == [], f"/redoc/ references external resources: {external}"

    done = subprocess.run(
        [chromium, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=10000",
         "--dump-dom", active_url + "/redoc/"],
        capture_output=True, text=True, timeout=120)
    dom = done.stdout
    assert done.returncode == 0 and "</html>" in dom.lower(), done.stderr[-2000:]
    text = re.sub(r"<[^>]+>", " ", dom)
    missing = [f"{m} {p}" for m, p, _ in ops if p not in text]
    assert missing == [], f"operations not rendered: {missing}"
    for _, _, op in ops:
        summary = op.get("summary")
        if summary:
            assert summary in text or summary.replace("&", "&amp;") in dom, summary


def test_pyactivestorage_computes_mean_min_max_through_nimbus_active(active_url, s3_config):
    python = nimbus_cache() / PYACTIVESTORAGE_VENV / "bin" / "python"
    if not python.is_file():
        if servers_required():
            pytest.fail(f"{python} missing (scripts/bootstrap creates PyActiveStorage's venv)")
        pytest.skip("PyActiveStorage's venv is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    done = subprocess.run(
        [str(python), str(Path(__file__).with_name("pyactivestorage_mean.py")),
         "--endpoint", s3_config.endpoint, "--bucket", s3_config.bucket,
         "--access-key", s3_config.access_key, "--secret-key", s3_config.secret_key,
         "--active-url", active_url],
        capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    for what in ("mean_all", "mean_slab", "min_all", "max_all"):
        assert got[what] == pytest.approx(got[what + "_numpy"], rel=1e-5), (what, got)
    # The missing value (-999) must have been excluded, or the minimum would be it.
    assert got["min_all"] > 0
