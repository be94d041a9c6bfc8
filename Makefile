# The front door. `make run` and `make test` are the README's two commands.
BUILD ?= build
PARALLEL ?= 2
CMAKE_FLAGS ?=

.PHONY: all deps configure build build-main run test test-asan bench fuzz clean

all: build

deps:
	./scripts/install-deps.sh

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(PARALLEL)

# Only the binary and the libraries it links: what the main job needs.
build-main: configure
	cmake --build $(BUILD) -j $(PARALLEL) --target rackscale

# The main job: `rackscale run` on the default scenario (scripts/run-example.sh).
# Builds the binary alone (not the test suite or the benchmarks).
run: deps build-main
	./scripts/run-example.sh $(BUILD)/rackscale

test: deps build
	ctest --test-dir $(BUILD) --output-on-failure -j $(PARALLEL)

bench: deps build
	./bench/run-bench.sh $(BUILD)

# The test suite once under ASan + UBSan (clang; shares build-fuzz).
test-asan: deps
	./scripts/test-asan.sh

fuzz: deps
	./fuzz/run-fuzz.sh

clean:
	rm -rf $(BUILD) build-fuzz
