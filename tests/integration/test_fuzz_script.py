"""tests/stack/fuzz.sh must fail the suite when a fuzz target crashes: its output goes through a
filtering grep, and an earlier `|| true` on that pipeline forgave the crash along with grep's
"nothing matched". A stand-in `cargo` first on PATH plays cargo-fuzz (a crash, a quiet clean run),
so this runs in a second and needs no sanitizer build; the real fuzzing is the `fuzz` suite."""
import os
import subprocess

from conftest import REPO

FAKE_CARGO = """#!/bin/sh
# cargo fuzz --version | cargo fuzz build ... | cargo fuzz run ...
case "$2" in
  run) printf '%s\\n' "$FAKE_OUTPUT"; exit "$FAKE_EXIT" ;;
  *) exit 0 ;;
esac
"""


def run_fuzz_sh(tmp_path, output, code):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    cargo = bin_dir / "cargo"
    cargo.write_text(FAKE_CARGO)
    cargo.chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}", FAKE_OUTPUT=output,
               FAKE_EXIT=str(code), FUZZ_SECONDS="1")
    return subprocess.run(["bash", str(REPO / "tests/stack/fuzz.sh")], capture_output=True,
                          text=True, env=env, timeout=60)


def test_a_fuzz_crash_fails_the_script(tmp_path):
    r = run_fuzz_sh(tmp_path, "==4242== ERROR: libFuzzer: deadly signal\nSUMMARY: libFuzzer: deadly signal", 77)
    assert r.returncode != 0, r.stdout
    assert "deadly signal" in r.stdout           # the crash's lines still reach the log
    assert "ran 1s clean" not in r.stdout


def test_a_clean_run_with_no_matching_line_passes(tmp_path):
    # grep finding nothing to show is not a failure.
    r = run_fuzz_sh(tmp_path, "INFO: nothing interesting", 0)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("ran 1s clean") == 2, r.stdout
