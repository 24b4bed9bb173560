# nimbus developer entry points. Everything real lives in scripts/ so CI and humans run the same code.
SHELL := /bin/bash
JOBS ?= 2

.PHONY: help bootstrap build test demo test-garage

help:
	@echo "make bootstrap    install/build the toolchain into \$${NIMBUS_CACHE:-~/.cache/nimbus} (cached)"
	@echo "make build        bootstrap + configure + build (preset dev)"
	@echo "make test         all tests: build, start MinIO/Azurite, ctest + pytest (scripts/test)"
	@echo "make demo         the end-to-end demo (scripts/demo)"
	@echo "make test-garage  h5py, store conformance and HDF5 API tests against a local Garage (scripts/test-garage;"
	@echo "                  builds Garage with cargo the first time)"

bootstrap:
	scripts/bootstrap

build: bootstrap
	eval "$$(scripts/env)" && cmake --preset dev && cmake --build --preset dev --parallel $(JOBS)

test:
	NIMBUS_JOBS=$(JOBS) scripts/test

demo:
	@if [ -x scripts/demo ]; then exec scripts/demo; \
	else echo "make demo: scripts/demo does not exist yet" >&2; exit 1; fi

test-garage:
	NIMBUS_JOBS=$(JOBS) scripts/test-garage
