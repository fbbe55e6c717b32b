"""Fixtures for the apicall-speechd tests: the real service, started with the real models on a
free loopback port (not the stack's 8765, so a running stack is left alone)."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import speechlib  # noqa: E402
from speechlib import Service  # noqa: E402

MODELS_DIR = os.path.join(speechlib.STACK, "speechd", "models")


@pytest.fixture(scope="session")
def speechd(tmp_path_factory):
    """The service as the stack runs it: every installed model preloaded."""
    svc = Service(str(tmp_path_factory.mktemp("speechd")), "main",
                  ["--models-dir", MODELS_DIR])
    yield svc
    svc.stop()


@pytest.fixture(scope="session")
def speechd_english_only(tmp_path_factory):
    """A second instance on a Unix socket without the multilingual model (no --models-dir), and
    with espeak-ng as its only text-to-speech engine (a host without pico2wave and piper)."""
    tmp = str(tmp_path_factory.mktemp("speechd-en"))
    svc = Service(tmp, "en", ["--unix", os.path.join(tmp, "speechd.sock"),
                              "--tts-engines", "espeak"])
    yield svc
    svc.stop()
