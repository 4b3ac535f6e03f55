# SPDX-License-Identifier: MIT
# A thin wrapper over CMake so that two commands work on a fresh Debian 12 machine (as root):
#   make demo   install missing packages, build, run the default scenario, write its report
#   make test   install missing packages, build, run the whole test suite
# Everything else is plain CMake: cmake --preset release && cmake --build --preset release.
PRESET ?= $(if $(CI),ci,release)
BUILD  := build/$(PRESET)
JOBS   ?= $(shell nproc 2>/dev/null || echo 2)
DEMO_OUT ?= out/demo

.PHONY: all deps configure build demo test bench clean

all: build

deps:
	bash scripts/deps.sh

configure: deps
	cmake --preset $(PRESET)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	$(BUILD)/apps/bxsim run scenarios/default.yaml --out $(DEMO_OUT)
	@echo "demo: report written to $(DEMO_OUT)/report.html (data: summary.json, results.h5)"

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

bench: build
	$(BUILD)/apps/bxsim bench --suite all --json $(BUILD)/bench.json --baseline bench/baseline.json

clean:
	rm -rf build out
