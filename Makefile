# apicall: build, local stack and tests. Everything runs as root on Debian 12
# (see tests/stack/*.sh). `make test` is what CI runs (.ci/run).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:/root/.cargo/bin:$(PATH)

.PHONY: all deps build up down restart test selftest demo lint fuzz dist

all: build

## deps: apt packages, the asterisk user, the Python venv, the Asterisk 22 sid root (idempotent)
deps:
	@bash tests/stack/install-deps.sh
	@bash tests/stack/asterisk-root.sh

## build: the Rust workspace, including the PHP extension target/debug/libapicall.so
build:
	@bash tests/stack/toolchain.sh rust
	@start=$$(date +%s); cargo build --workspace; echo "[stack] cargo build: $$(( $$(date +%s) - start ))s"

## up: start (or check) MariaDB, Apache + mod_php + the extension, Asterisk; prints APICALL_URL/TOKEN
up: deps
	@start=$$(date +%s); cargo build -p apicall-php; echo "[stack] cargo build -p apicall-php: $$(( $$(date +%s) - start ))s"
	@bash tests/stack/up.sh

## down: stop the local stack (data and logs stay in .stack/)
down:
	@bash tests/stack/down.sh

restart: down up

## selftest: real calls to the test phones through the running stack
selftest: up
	@bash tests/stack/selftest.sh

## test: every suite (Rust, stack self-test, PHP, integration); what .ci/run runs
test: up
	@bash tests/stack/run-tests.sh

## demo: bring the stack up and place a demo call, following it in the Asterisk log
demo: up
	@bash tests/stack/demo.sh

## dist: dist/apicall-<version>.tgz for FreePBX 17 Module Admin, with the stripped release extension (tests/dist/make-dist.sh)
dist:
	@bash tests/dist/make-dist.sh

## lint: rustfmt, clippy (warnings are errors), php -l on every PHP file
lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	@bad=0; n=0; while IFS= read -r -d '' f; do n=$$((n + 1)); \
	  out=$$(php -l "$$f" 2>&1) || { echo "$$out"; bad=1; }; \
	done < <(find . -name '*.php' -not -path './target/*' -not -path './.stack/*' -not -path './.git/*' -print0); \
	echo "php -l: $$n files checked"; exit $$bad

## fuzz: the request parsers and the call-file renderer under libFuzzer, 5 minutes each
fuzz:
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} bash tests/stack/fuzz.sh

## bench: brings the stack up, measures API speed, listening cost, turn timing, speech and memory
## against floors taken in the same run, and rewrites BENCHMARKS.md (about 15 minutes)
.PHONY: bench
bench: up
	@bash tests/bench/bench.sh
