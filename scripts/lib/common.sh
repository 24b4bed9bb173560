# shellcheck shell=bash
# Shared helpers for scripts/bootstrap, scripts/env and scripts/test. Sourced, never executed.

NIMBUS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source-path=SCRIPTDIR source=../versions.sh
. "$NIMBUS_ROOT/scripts/versions.sh"

NIMBUS_CACHE="${NIMBUS_CACHE:-$HOME/.cache/nimbus}"
NIMBUS_JOBS="${NIMBUS_JOBS:-2}"

# Layout of the cache. Every heavy step installs into its own <name>-<version> directory and writes
# $dir/.nimbus-complete (containing the step's recipe key) as its very last action.
NIMBUS_STAMP_NAME=.nimbus-complete
nimbus_hdf5_cache_prefix() { echo "$NIMBUS_CACHE/hdf5-$NIMBUS_HDF5_VERSION"; }
nimbus_hdf5_src_dir()      { echo "$NIMBUS_CACHE/src/hdf5-$NIMBUS_HDF5_VERSION"; }
nimbus_venv_dir()          { echo "$NIMBUS_CACHE/venv-py$NIMBUS_PYTHON_VERSION"; }
nimbus_minio_dir()         { echo "$NIMBUS_CACHE/minio-$NIMBUS_MINIO_VERSION"; }
nimbus_toxiproxy_dir()     { echo "$NIMBUS_CACHE/toxiproxy-$NIMBUS_TOXIPROXY_VERSION"; }
nimbus_azurite_dir()       { echo "$NIMBUS_CACHE/azurite-$NIMBUS_AZURITE_VERSION"; }
# HDF5's API test suite (test/API) built against the installed HDF5 (bin/h5_api_test).
nimbus_hdf5_api_tests_dir() { echo "$NIMBUS_CACHE/hdf5-api-tests-$NIMBUS_HDF5_VERSION"; }
# Garage's own tags are v<version>.
nimbus_garage_dir()        { echo "$NIMBUS_CACHE/garage-v$NIMBUS_GARAGE_VERSION"; }
nimbus_reductionist_dir()  { echo "$NIMBUS_CACHE/reductionist-$NIMBUS_REDUCTIONIST_VERSION"; }
nimbus_pyactivestorage_venv_dir() { echo "$NIMBUS_CACHE/venv-pyactivestorage-$NIMBUS_PYACTIVESTORAGE_VERSION"; }
# The HDF5 prefix bootstrap chose (system or cache) is recorded here so scripts/env needs no probing.
nimbus_hdf5_prefix_file()  { echo "$NIMBUS_CACHE/hdf5.prefix"; }

nimbus_hdf5_prefix() {
  local f
  f="$(nimbus_hdf5_prefix_file)"
  if [[ -s "$f" ]]; then head -n1 "$f"; else nimbus_hdf5_cache_prefix; fi
}

nimbus_log()  { printf '[%s] %s\n' "${NIMBUS_LOG_TAG:-nimbus}" "$*" >&2; }
nimbus_die()  { nimbus_log "ERROR: $*"; exit 1; }

# version_ge A B: true when dotted version A >= B.
nimbus_version_ge() {
  [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" == "$2" ]]
}

nimbus_stamp_ok() {  # dir key
  [[ -f "$1/$NIMBUS_STAMP_NAME" ]] && [[ "$(cat "$1/$NIMBUS_STAMP_NAME")" == "$2" ]]
}
nimbus_stamp_write() {  # dir key
  printf '%s\n' "$2" >"$1/$NIMBUS_STAMP_NAME.tmp.$$" && mv -f "$1/$NIMBUS_STAMP_NAME.tmp.$$" "$1/$NIMBUS_STAMP_NAME"
}

nimbus_now() { date +%s.%N; }
nimbus_elapsed() { awk -v a="$1" -v b="$(nimbus_now)" 'BEGIN { printf "%.1fs", b - a }'; }

# nimbus_free_port: a TCP port on 127.0.0.1 that the OS just handed out.
nimbus_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
