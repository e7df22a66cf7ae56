# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a convenience.
.PHONY: demo test bootstrap release build-test build-fuzz fuzz bench clean

JOBS ?= $(shell nproc)
DEMO_DIR ?= demo-workspace

bootstrap:
	bash scripts/bootstrap.sh

release: bootstrap
	cmake --preset release
	cmake --build --preset release -j $(JOBS)

demo: release
	./build/release/gyre demo --workspace $(DEMO_DIR)

build-test: bootstrap
	cmake --preset test
	cmake --build --preset test -j $(JOBS)

# The libFuzzer targets (clang; fuzz/README.md). `make test` runs each briefly; `make fuzz` longer.
build-fuzz: bootstrap
	cmake --preset fuzz
	cmake --build --preset fuzz -j $(JOBS)

FUZZ_SECONDS ?= 300
fuzz: build-fuzz
	bash bench/fuzz_all.sh $(FUZZ_SECONDS)

test: build-test build-fuzz
	bash scripts/run-tests.sh

bench: release
	bash bench/run_all.sh

clean:
	rm -rf build
