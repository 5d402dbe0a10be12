# Retract: two commands on a fresh Debian machine with Swift.
#   make run   - installs what is missing, builds, initialises on first use, serves on 127.0.0.1:8080
#   make test  - installs what is missing, builds once, runs the whole suite

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null && [ "$$(id -u)" != 0 ] && echo sudo)
SYSTEM_PACKAGES := libsodium-dev libsqlite3-dev pkg-config
# The tests also talk to a real SMTP server (Debian's aiosmtpd) over TLS with certificates
# they make with openssl; the web app is tested in Debian's headless Chromium, driven by
# Selenium (from PyPI, pinned in Tests/Browser/requirements.txt).
# The gateway's tests run Debian's postfix from a configuration directory of their own.
# The PostgreSQL vault's tests start their own cluster of Debian's postgresql (initdb, pg_ctl).
# The install test checks the systemd unit with systemd-analyze verify (Debian's systemd).
TEST_PACKAGES := $(SYSTEM_PACKAGES) python3-aiosmtpd openssl chromium chromium-driver postfix postgresql prometheus systemd
PYTHON ?= python3
# The HTTP figure (issue 5) drives `retract serve` and a static nginx with wrk; the peer
# figure (issue 15, scripts/peer_http.sh) adds PrivateBin on php8.2-fpm (cloned, not committed).
BENCH_PACKAGES := $(SYSTEM_PACKAGES) python3-aiosmtpd wrk nginx-light postfix php8.2-fpm php8.2-cli php8.2-opcache curl git
BIN := .build/debug/retract

.PHONY: all deps test-deps bench-deps install-packages build run test bench fuzz vectors clean install install-writable install-files deb deb-files

all: build

# apt-get only for what is missing, so a machine that has everything is not touched.
deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(SYSTEM_PACKAGES)"

test-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(TEST_PACKAGES)"

bench-deps:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(BENCH_PACKAGES)"

install-packages:
	@missing=""; \
	for p in $(PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "retract: installing system packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build --product retract

run: build
	$(BIN) init
	$(BIN) serve --host 127.0.0.1 --port 8080

# One build of everything (tests and executables), then the suite without rebuilding.
# At most TEST_PARALLELISM tests run at once: Swift Testing otherwise starts every test
# together, and with hundreds of vaults open the test process passed 2,000 descriptors,
# where Foundation's Process.run() (reading /proc/self/fd past the end of glibc's readdir
# buffer, swift-corelibs-foundation before #5472's fix) crashed about one run in two.
TEST_PARALLELISM ?= 24
test: test-deps
	$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/Schemathesis/requirements.txt
	$(SWIFT) build --build-tests
	SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH=$(TEST_PARALLELISM) $(SWIFT) test --skip-build
	$(PYTHON) -m pip install -q --disable-pip-version-check -r Tests/Browser/requirements.txt
	$(PYTHON) -m pytest -q -p no:cacheprovider Tests/Browser

# Speed and memory figures for docs/performance.md (release build); the HTTP figure runs
# wrk against `retract serve` and nginx (Debian's nginx-light, started by the benchmark as
# this user on a free loopback port; the system's nginx service is not used).
bench: bench-deps
	$(SWIFT) build -c release --product retract
	$(SWIFT) build -c release --product retract-bench
	.build/release/retract-bench
	scripts/peer_http.sh

# Installs the binary with its resource bundles (Bundle.module finds them beside the
# executable) under $(PREFIX)/lib/retract, a link in $(PREFIX)/bin, and the systemd unit
# (docs/operations.md). CONFIG=debug installs the debug build. `install-files` copies an
# existing build from BIN_PATH without building (the install test uses it: a nested
# `swift build` would wait for the `swift test` that runs it).
PREFIX ?= /usr/local
CONFIG ?= release
SYSTEMD_UNIT_DIR ?= $(PREFIX)/lib/systemd/system
install: deps
	@$(MAKE) --no-print-directory install-writable
	$(SWIFT) build -c $(CONFIG) --product retract
	@$(MAKE) --no-print-directory install-files BIN_PATH="$$($(SWIFT) build -c $(CONFIG) --show-bin-path)"

install-writable:
	@mkdir -p "$(DESTDIR)$(PREFIX)" 2>/dev/null; \
	if [ ! -w "$(DESTDIR)$(PREFIX)" ]; then \
		echo "retract: cannot write to $(DESTDIR)$(PREFIX); run as root, or choose PREFIX=DIR you can write"; exit 1; \
	fi

install-files: install-writable
	@if [ ! -x "$(BIN_PATH)/retract" ]; then \
		echo "retract: no built retract in BIN_PATH=$(BIN_PATH); run make install, or swift build first"; exit 1; \
	fi
	install -d "$(DESTDIR)$(PREFIX)/lib/retract" "$(DESTDIR)$(PREFIX)/bin" "$(DESTDIR)$(SYSTEMD_UNIT_DIR)"
	install -m 0755 "$(BIN_PATH)/retract" "$(DESTDIR)$(PREFIX)/lib/retract/retract"
	for bundle in "$(BIN_PATH)"/*.resources; do \
		case "$$bundle" in *Tests.resources|*TestSupport.resources) continue;; esac; \
		rm -rf "$(DESTDIR)$(PREFIX)/lib/retract/$$(basename "$$bundle")"; \
		cp -R "$$bundle" "$(DESTDIR)$(PREFIX)/lib/retract/"; \
	done
	ln -sfn ../lib/retract/retract "$(DESTDIR)$(PREFIX)/bin/retract"
	sed 's|@BINDIR@|$(PREFIX)/bin|g' contrib/systemd/retract.service > "$(DESTDIR)$(SYSTEMD_UNIT_DIR)/retract.service"
	chmod 0644 "$(DESTDIR)$(SYSTEMD_UNIT_DIR)/retract.service"
	@echo "retract: installed $(PREFIX)/bin/retract and $(SYSTEMD_UNIT_DIR)/retract.service"

# A Debian package (issue 16): the release build with the Swift runtime linked in
# (--static-swift-stdlib, so it needs no toolchain), installed under /usr by install-files,
# with contrib/debian's control, postinst (creates the retract user and /var/lib/retract)
# and postrm. `deb-files` packages an existing build from BIN_PATH (the test uses it).
DEB_VERSION ?= 0~git$(shell git describe --always --dirty --tags 2>/dev/null | tr -c 'A-Za-z0-9.+~\n' '.' || echo unknown)
DEB_ARCH ?= $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_STAGE ?= .build/deb/stage
DEB_OUT ?= .build/deb/retract_$(DEB_VERSION)_$(DEB_ARCH).deb
# dpkg-deb's compression (xz by default); the test packs a debug build with -Zgzip -z1.
DEB_FLAGS ?=
# The static Foundation links libcurl (FoundationNetworking), so its headers and link library.
DEB_BUILD_PACKAGES := $(SYSTEM_PACKAGES) libcurl4-openssl-dev dpkg-dev
deb:
	@$(MAKE) --no-print-directory install-packages PACKAGES="$(DEB_BUILD_PACKAGES)"
	$(SWIFT) build -c release --product retract --static-swift-stdlib
	@$(MAKE) --no-print-directory deb-files BIN_PATH="$$($(SWIFT) build -c release --static-swift-stdlib --show-bin-path)"

deb-files:
	@command -v dpkg-deb >/dev/null || { echo "retract: dpkg-deb is missing; make deb needs Debian's dpkg"; exit 1; }
	rm -rf "$(DEB_STAGE)"
	@$(MAKE) --no-print-directory install-files BIN_PATH="$(BIN_PATH)" DESTDIR="$(abspath $(DEB_STAGE))" PREFIX=/usr SYSTEMD_UNIT_DIR=/lib/systemd/system
	install -d "$(DEB_STAGE)/DEBIAN" "$(DEB_STAGE)/usr/share/doc/retract"
	install -m 0644 README.md docs/operations.md docs/gateway.md "$(DEB_STAGE)/usr/share/doc/retract/"
	sed -e 's|@VERSION@|$(DEB_VERSION)|' -e 's|@ARCH@|$(DEB_ARCH)|' contrib/debian/control > "$(DEB_STAGE)/DEBIAN/control"
	install -m 0755 contrib/debian/postinst contrib/debian/postrm "$(DEB_STAGE)/DEBIAN/"
	@mkdir -p "$(dir $(DEB_OUT))"
	dpkg-deb --root-owner-group $(DEB_FLAGS) --build "$(DEB_STAGE)" "$(DEB_OUT)"
	@echo "retract: built $(DEB_OUT)"

# libFuzzer (issue 17): SwiftPM's --sanitize=fuzzer --sanitize=address link the fuzzer's
# main, but pass two flags to each compile and swiftc keeps only the last, so no Swift code
# got coverage counters and the fuzzers ran blind; the -Xswiftc one, last, has both.
# Each executable of Fuzz/Package.swift runs for FUZZ_SECONDS from its
# seed corpus Fuzz/Corpus/<target> (new inputs go to .build/fuzz/<target>, crashes to
# .build/fuzz/<target>-crash-*; a crash is added to the seed corpus under its bug's name).
# `make test` replays the seed corpus through the same entry points (FuzzReplayTests).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(notdir $(wildcard Fuzz/Sources/*))
FUZZ_FLAGS ?= -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
fuzz: deps
	@[ ! -f Package.resolved ] || cp Package.resolved Fuzz/Package.resolved
	cd Fuzz && $(SWIFT) build -c debug --sanitize=fuzzer --sanitize=address -Xswiftc -sanitize=fuzzer,address
	@failed=""; for t in $(FUZZ_TARGETS); do \
		mkdir -p .build/fuzz/$$t; \
		Fuzz/.build/debug/$$t .build/fuzz/$$t Fuzz/Corpus/$$t -max_total_time=$(FUZZ_SECONDS) \
			-artifact_prefix=.build/fuzz/$$t- $(FUZZ_FLAGS) > .build/fuzz/$$t.log 2>&1 || failed="$$failed $$t"; \
		printf '%-26s %s %s\n' $$t "$$(grep -E '^#[0-9]+[[:space:]]+DONE' .build/fuzz/$$t.log | tail -1)" \
			"$$(grep -E '^stat::number_of_executed_units' .build/fuzz/$$t.log | awk '{print $$2}') execs"; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: crashes in:$$failed (see .build/fuzz/<target>.log)"; exit 1; fi

# Regenerates the language-neutral sealing test vectors.
vectors: deps
	$(SWIFT) run retract-vectors Tests/SealTests/Vectors

clean:
	rm -rf .build
