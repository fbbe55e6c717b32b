"""The toolchain checks of a fresh machine (tests/stack/toolchain.sh), run with stub rustc,
cargo and node first on PATH: Debian 12's rustc 1.63 stops `make deps` before anything is
installed, naming rustup and the version needed; Debian 12's node 18 gets the last
playwright-core that supports it instead of a failing npm install; older node stops the
browser suite's install with what is needed. And this machine's own toolchain passes.
"""
import json
import os
import subprocess
import time

import pytest

from conftest import REPO

TOOLCHAIN = REPO / "tests/stack/toolchain.sh"
PINNED, NODE18 = "1.65.1", "1.61.1"


def need_rust():
    for line in (REPO / "Cargo.toml").read_text().splitlines():
        if line.startswith("rust-version"):
            return line.split('"')[1]
    raise AssertionError("no rust-version in Cargo.toml")


@pytest.fixture
def stubs(tmp_path):
    """A bin folder first on PATH (HOME points elsewhere, so ~/.cargo/bin is not searched);
    stub(name, version_line) makes `name --version` print version_line; node runs the real
    node for anything else (npm and the version probes of the scripts use it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()

    def stub(name, version_line):
        real = "/usr/bin/node" if name == "node" else "/bin/false"
        path = bin_dir / name
        path.write_text(f'#!/bin/sh\n[ "$1" = --version ] && {{ echo "{version_line}"; exit 0; }}\n'
                        f'exec {real} "$@"\n')
        path.chmod(0o755)

    env = dict(os.environ, HOME=str(tmp_path), PATH=f"{bin_dir}:/usr/sbin:/usr/bin:/sbin:/bin")
    stub.env = env
    return stub


def run(args, env, timeout=60):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


def test_this_machine_passes():
    r = run(["bash", str(TOOLCHAIN), "rust"], dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert f"(>= {need_rust()})" in r.stdout, r.stdout
    node = run(["node", "--version"], dict(os.environ)).stdout.strip()
    r = run(["bash", str(TOOLCHAIN), "playwright"], dict(os.environ))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == (PINNED if int(node[1:].split(".")[0]) >= 20 else NODE18), (node, r.stdout)


@pytest.mark.parametrize("rustc,cargo,too_old", [
    ("rustc 1.63.0", "cargo 1.65.0", "rustc"),            # Debian 12's packages
    ("rustc 1.84.1 (e71f9a9a9 2025-01-27)", "cargo 1.84.1", "rustc"),
    ("rustc 1.95.0 (59807616e 2026-04-14)", "cargo 1.63.0", "cargo"),
    ("rustc 1.85.0 (4d91de4e4 2025-02-17)", "cargo 1.85.0 (d73d2caf9 2024-12-31)", None),
    ("rustc 1.100.0", "cargo 1.100.0", None),              # compared as versions, not as text
])
def test_rust_version_is_checked(stubs, rustc, cargo, too_old):
    assert need_rust() == "1.85", "update the cases above with Cargo.toml's rust-version"
    stubs("rustc", rustc)
    stubs("cargo", cargo)
    r = run(["bash", str(TOOLCHAIN), "rust"], stubs.env)
    if too_old is None:
        assert r.returncode == 0, (r.stdout, r.stderr)
        assert r.stdout.startswith(f"[toolchain] rust: {rustc} (>= 1.85)"), r.stdout
    else:
        assert r.returncode == 1, (r.stdout, r.stderr)
        assert f"apicall needs {too_old} >= 1.85 (rust-version in Cargo.toml)" in r.stderr, r.stderr
        assert "rustup" in r.stderr and "https://rustup.rs" in r.stderr, r.stderr


def test_make_deps_stops_on_debian_rustc_before_installing_anything(stubs):
    stubs("rustc", "rustc 1.63.0")
    stubs("cargo", "cargo 1.65.0")
    started = time.monotonic()
    r = run(["bash", str(REPO / "tests/stack/install-deps.sh")], stubs.env, timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "rustc is 1.63.0; apicall needs rustc >= 1.85" in r.stderr, r.stderr
    assert "the Rust toolchain is missing or too old" in r.stderr, r.stderr
    # Nothing after the check ran: no apt, user, venv or speech service step.
    assert r.stdout == "", r.stdout
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("node,chosen", [
    ("v20.20.2", PINNED),
    ("v22.1.0", PINNED),
    ("v18.19.0", NODE18),  # Debian 12's nodejs
    ("v19.9.0", NODE18),
    ("v16.20.2", None),
    ("weird", None),
])
def test_playwright_core_follows_node(stubs, node, chosen):
    stubs("node", node)
    r = run(["bash", str(TOOLCHAIN), "playwright"], stubs.env)
    if chosen is None:
        assert r.returncode == 1 and r.stdout == "", (r.stdout, r.stderr)
        assert "node >= 20" in r.stderr, r.stderr
    else:
        assert r.returncode == 0, r.stderr
        assert r.stdout == chosen + "\n"
        if chosen == NODE18:
            assert f"using {NODE18}, the last release for node 18" in r.stderr, r.stderr


def test_pinned_playwright_core_needs_node_20():
    """The premise of the choice, from the installed package when the browser suite has run."""
    pkg = REPO / ".stack/browser/node_modules/playwright-core/package.json"
    if not pkg.exists():
        pytest.skip("playwright-core is not installed yet (the browser suite installs it)")
    meta = json.loads(pkg.read_text())
    if meta["version"] != PINNED:
        pytest.skip(f"installed playwright-core is {meta['version']}, chosen for this node")
    assert meta["engines"]["node"] == ">=20", meta["engines"]


def test_browser_install_stops_on_old_node_before_npm(stubs):
    stubs("node", "v16.20.2")
    r = run(["bash", str(REPO / "tests/browser/install-deps.sh")], stubs.env, timeout=120)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "is v16.20.2; the browser test needs node >= 20" in r.stderr, r.stderr
    assert "npm install" not in r.stdout, r.stdout
