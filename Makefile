# edgemon — the two commands a fresh machine needs are `make run` and `make test`.
# Everything else wraps CMake; see README.md.

SANITIZE ?= 0
JOBS     ?= $(shell nproc)
PREFIX   ?= /usr/local
ifeq ($(SANITIZE),1)
BUILD    ?= build-sanitize
CMAKE_FLAGS += -DEDGEMON_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
else
BUILD    ?= build
endif
FUZZ_BUILD   ?= build-fuzz
FUZZ_SECONDS ?= 20
CTEST_ARGS   ?=

# Debian packages: building, testing (real peers on loopback) and benchmarking.
BUILD_PKGS = cmake g++ make pkg-config libuv1-dev libcjson-dev libyaml-dev \
             libsqlite3-dev libcmocka-dev node-llhttp zlib1g-dev \
             libssl-dev protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev libsnappy-dev
TEST_PKGS  = python3 curl openssl ca-certificates prometheus prometheus-alertmanager prometheus-node-exporter clang libclang-rt-14-dev \
             systemd valgrind influxdb influxdb-client sqlite3 lintian
BENCH_PKGS = wrk hyperfine collectd-core libmicrohttpd12 libprotobuf-c1

.PHONY: all deps deps-bench build run test bench fuzz install deb clean format etc

all: build

deps:
	@sh init/install-deps.sh $(BUILD_PKGS) $(TEST_PKGS)

deps-bench:
	@sh init/install-deps.sh $(BUILD_PKGS) $(TEST_PKGS) $(BENCH_PKGS)

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

build: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

run: deps build
	./$(BUILD)/edgemon run

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: deps-bench build
	bench/run.sh ./$(BUILD)/edgemon
	python3 bench/footprint.py ./$(BUILD)/edgemon
	python3 bench/spool_bench.py ./$(BUILD)/edgemon ./$(BUILD)/test/spool_fill
	python3 bench/hub_bench.py ./$(BUILD)/edgemon
	python3 bench/query_bench.py ./$(BUILD)/edgemon ./$(BUILD)/test/history_fill bench/results-query.md

fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DEDGEMON_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzzers
	test/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Regenerates the commented reference config from the daemon's own key table.
etc: build
	./$(BUILD)/edgemon config > etc/edgemon.yaml

# A Debian package of this build in $(BUILD)/ (init/build-deb.sh says what is in it).
deb: build
	sh init/build-deb.sh $(BUILD) $(BUILD)

install: build
	install -D -m 0755 $(BUILD)/edgemon $(DESTDIR)$(PREFIX)/bin/edgemon
	install -D -m 0644 README.md $(DESTDIR)$(PREFIX)/share/doc/edgemon/README.md
	install -D -m 0644 init/edgemon.service $(DESTDIR)/etc/systemd/system/edgemon.service
	sed -i 's|/usr/local/|$(PREFIX)/|g' $(DESTDIR)/etc/systemd/system/edgemon.service
	test -e $(DESTDIR)/etc/edgemon/edgemon.yaml || \
	  install -D -m 0644 etc/edgemon.yaml $(DESTDIR)/etc/edgemon/edgemon.yaml

format:
	clang-format -i $$(git ls-files 'src/*.cpp' 'src/*.hpp' 'test/*.cpp' 'test/*.hpp' 'bench/*.cpp')

clean:
	rm -rf build build-sanitize $(FUZZ_BUILD)
