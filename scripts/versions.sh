# shellcheck shell=bash disable=SC2034
# Version pins shared by scripts/bootstrap, scripts/env and the tests. One place to bump a version.
# Sourced (never executed). Plain NAME=value lines only: tests/integration/conftest.py parses them.

# HDF5 (built from Debian's hdf5 source package of the next Debian release when the system has no >= 1.14).
NIMBUS_HDF5_VERSION=1.14.5
NIMBUS_HDF5_MIN_VERSION=1.14.0
NIMBUS_HDF5_DEBIAN_SUITE=trixie
NIMBUS_HDF5_DEBIAN_SRC_PACKAGE=hdf5
NIMBUS_HDF5_ORIG_TARBALL=hdf5_1.14.5+repack.orig.tar.gz

# Python tool venv.
NIMBUS_PYTHON_VERSION=3.11
NIMBUS_PIP_PINS="numpy==2.4.6 pytest==9.2.0 pytest-timeout==2.4.0 boto3==1.44.5 zarr==3.1.6"
NIMBUS_H5PY_BUILD_PINS="Cython==3.3.1 pkgconfig==1.6.0 setuptools==84.2.1"
NIMBUS_H5PY_VERSION=3.16.0
# Installed into the same venv by a separate cached step, so changing them never rebuilds h5py:
# obstore lets zarr-python read S3 directly (interop tests); tensorstore is a benchmark anchor.
NIMBUS_PIP_EXTRA_PINS="obstore==0.12.1 tensorstore==0.1.86 cbor2==6.2.1 requests==2.34.2"

# Test servers (built/installed from the Go module proxy and npm).
NIMBUS_MINIO_MODULE=github.com/minio/minio
NIMBUS_MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
NIMBUS_TOXIPROXY_MODULE=github.com/Shopify/toxiproxy/v2
NIMBUS_TOXIPROXY_VERSION=v2.12.0
NIMBUS_AZURITE_VERSION=3.35.0
# Garage (Rust crate `garage`, cargo install --locked; only for `make test-garage`, never for
# `make test`: a cold build took 80 min on 2 busy cores). Default features.
NIMBUS_GARAGE_VERSION=2.5.0
# Reductionist (crate `reductionist`), the benchmark anchor of nimbus-active (bench/active.py); only
# with `scripts/bootstrap --with-reductionist` (a cold build takes about 40 minutes on 2 cores).
NIMBUS_REDUCTIONIST_VERSION=0.13.1
# PyActiveStorage in a venv of its own (its s3fs/aiobotocore pins conflict with boto3's): the client
# that computes means through nimbus-active in tests/integration/test_active_clients.py.
NIMBUS_PYACTIVESTORAGE_VERSION=0.8.0

# Minimum host toolchain that bootstrap does not install itself.
NIMBUS_GO_MIN_VERSION=1.24
NIMBUS_NODE_MIN_VERSION=20
# Rust (cargo), only for the optional Garage step (scripts/bootstrap --with-garage).
NIMBUS_RUST_MIN_VERSION=1.85

# Debian packages (bootstrap installs whatever dpkg-query says is missing).
NIMBUS_DEBIAN_PACKAGES="build-essential cmake ninja-build pkg-config dpkg-dev libcurl4-openssl-dev
libssl-dev zlib1g-dev libdeflate-dev libzstd-dev libblosc-dev liblz4-dev libpugixml-dev
nlohmann-json3-dev libboost1.81-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev
libbenchmark-dev pybind11-dev libhwy-dev clang-format curl ca-certificates debian-archive-keyring ccache
openssl chromium"
