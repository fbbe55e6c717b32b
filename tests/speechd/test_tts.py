"""apicall-speechd's text-to-speech (POST /v1/audio/speech): every engine speaks words that the
service's own Whisper understands back through an 8 kHz mu-law line, the choice per language,
formats and rates, latency, two requests at once, OpenAI-style errors.
Run: .stack/speech-venv/bin/python -m pytest tests/speechd"""

import concurrent.futures
import io
import json
import statistics
import subprocess
import time
import wave

import pytest

import speechlib


def speak(svc, content_type="application/json", raw=None, **fields):
    """POST /v1/audio/speech -> (status, headers, body: bytes, or the JSON error)."""
    body = raw if raw is not None else json.dumps(fields).encode("utf-8")
    status, headers, data = svc.request("POST", "/v1/audio/speech", body,
                                        {"Content-Type": content_type})
    if headers.get("Content-Type", "").startswith("application/json"):
        return status, headers, json.loads(data)
    return status, headers, data


def wav_info(data):
    with wave.open(io.BytesIO(data)) as w:
        return w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()


def telephone(wav):
    """WAV bytes -> 8 kHz mu-law WAV (sox), with the 0.2 s / 0.3 s of silence around it that a
    caller's line has (Whisper drops a last word that ends right at the end of the clip)."""
    return subprocess.run(["sox", "-D", "-t", "wav", "-", "-t", "wav", "-r", "8000", "-c", "1",
                           "-e", "mu-law", "-", "pad", "0.2", "0.3"], input=wav,
                          capture_output=True, check=True).stdout


def heard(svc, audio, language):
    status, body = svc.transcribe(audio=audio, language=language)
    assert status == 200, body
    return body["text"], set(speechlib.normalize(body["text"]))


def engines(svc):
    return svc.health()["tts"]["engines"]


def piper_loaded(svc, timeout=60):
    """The piper voice loads in the background after the service listens: wait for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        e = engines(svc)["piper"]
        if not e["available"] or e["loaded"]:
            return e
        time.sleep(0.1)
    raise AssertionError("the piper voice did not load in %d s" % timeout)


def need(svc, *names):
    missing = [n for n in names if not engines(svc)[n]["available"]]
    if missing:
        pytest.skip("not installed here: %s (tests/stack/speechd.sh install)" % ", ".join(missing))


# (engine, language, text, words Whisper must hear back through 8 kHz mu-law)
UNDERSTOOD = [
    ("pico", "en-US", "Your appointment is confirmed for Monday morning.",
     ["appointment", "confirmed", "monday"]),
    ("pico", "it-IT", "Il suo appuntamento è confermato per lunedì mattina.",
     ["appuntamento", "confermato", "mattina"]),
    ("pico", "de-DE", "Das Büro ist am Samstag und Sonntag geschlossen.",
     ["samstag", "sonntag", "geschlossen"]),
    ("piper", "en-US", "Please call us back at your earliest convenience.",
     ["call", "back", "convenience"]),
    ("espeak", "en-US", "Your order has been shipped and will arrive on Friday.",
     ["order", "shipped", "friday"]),
]


@pytest.mark.parametrize("engine,lang,text,keys", UNDERSTOOD,
                         ids=["%s-%s" % (u[0], u[1]) for u in UNDERSTOOD])
def test_engine_speech_is_understood_through_the_phone_line(speechd, engine, lang, text, keys):
    need(speechd, engine)
    t0 = time.monotonic()
    status, headers, wav = speak(speechd, input=text, model=engine, language=lang,
                                 response_format="wav", sample_rate=8000)
    ms = (time.monotonic() - t0) * 1000
    assert status == 200, wav
    assert headers["X-Apicall-Engine"] == engine
    assert wav_info(wav)[:3] == (8000, 1, 2)
    said, words = heard(speechd, telephone(wav), lang)
    print("%s %s: %.0f ms for %s s of audio; heard %r" % (engine, lang, ms,
                                                          headers["X-Audio-Duration"], said))
    missing = [k for k in keys if k not in words]
    assert not missing, "said %r, heard %r (missing %s)" % (text, said, missing)


@pytest.mark.parametrize("language,voice,engine,voice_id", [
    ("en", None, "piper", "joe"),             # measured: piper most intelligible in English
    ("en-US", "alloy", "piper", "joe"),       # OpenAI voice names: the language's default
    (None, None, "piper", "joe"),             # no language: English
    ("en-GB", None, "pico", "en-GB"),         # British English keeps a British voice
    ("en_AU", None, "pico", "en-GB"),
    ("it", None, "pico", "it-IT"),
    ("it-IT", "nova", "pico", "it-IT"),
    ("Italian", None, "pico", "it-IT"),
    ("de-AT", None, "pico", "de-DE"),
    ("fr", None, "pico", "fr-FR"),
    ("es-ES", None, "pico", "es-ES"),
    ("pt-BR", None, "espeak", "pt-br"),       # every other language: espeak-ng
    ("pl", None, "espeak", "pl"),
    (None, "it-IT", "pico", "it-IT"),         # an engine's voice name picks engine and language
    (None, "en-GB", "pico", "en-GB"),
    (None, "joe", "piper", "joe"),
    (None, "espeak:it+f3", "espeak", "it+f3"),
    ("it", "espeak:it", "espeak", "it"),
    (None, "pico:fr-FR", "pico", "fr-FR"),
])
def test_auto_engine_per_language(speechd, language, voice, engine, voice_id):
    need(speechd, "pico", "piper", "espeak")
    fields = {"input": "Uno due tre.", "model": "tts-1", "response_format": "wav"}
    if language:
        fields["language"] = language
    if voice:
        fields["voice"] = voice
    status, headers, body = speak(speechd, **fields)
    assert status == 200, body
    assert (headers["X-Apicall-Engine"], headers["X-Apicall-Voice"]) == (engine, voice_id)


def test_output_at_engine_rate_or_asked_rate(speechd):
    need(speechd, "pico", "piper", "espeak")
    for engine, rate in (("pico", 16000), ("piper", 22050), ("espeak", 22050)):
        status, headers, wav = speak(speechd, input="Press one to confirm.", model=engine,
                                     response_format="wav")
        assert status == 200, wav
        got_rate, channels, width, frames = wav_info(wav)
        assert (got_rate, channels, width) == (rate, 1, 2), engine
        assert headers["X-Sample-Rate"] == str(rate)
        assert 0.7 < frames / rate < 4.0, (engine, frames / rate)
        status, headers, wav8 = speak(speechd, input="Press one to confirm.", model=engine,
                                      response_format="wav", sample_rate=8000)
        assert status == 200 and wav_info(wav8)[0] == 8000
        # the same audio, resampled (piper samples its phoneme durations: within 25 %)
        tolerance = 0.25 * frames / rate if engine == "piper" else 0.05
        assert abs(wav_info(wav8)[3] / 8000 - frames / rate) < tolerance, engine


def test_formats(speechd):
    text = "Your appointment is confirmed."
    status, headers, mp3 = speak(speechd, input=text)          # OpenAI's default: mp3
    assert status == 200 and headers["Content-Type"] == "audio/mpeg"
    assert mp3[:3] == b"ID3" or mp3[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xe3")
    _, words = heard(speechd, mp3, "en")
    assert "appointment" in words
    status, headers, pcm = speak(speechd, input=text, response_format="pcm")
    assert status == 200 and headers["Content-Type"] == "audio/pcm"
    assert headers["X-Sample-Rate"] == "24000"                  # OpenAI's pcm: 24 kHz s16le
    assert abs(len(pcm) / 2 / 24000 - float(headers["X-Audio-Duration"])) < 0.01
    for fmt, ctype, magic in (("flac", "audio/flac", b"fLaC"), ("opus", "audio/ogg", b"OggS")):
        status, headers, data = speak(speechd, input=text, response_format=fmt)
        assert status == 200 and headers["Content-Type"] == ctype and data[:4] == magic, fmt
    status, headers, data = speak(speechd, input=text, response_format="aac")
    assert status == 200 and data[:2] in (b"\xff\xf1", b"\xff\xf9")


def test_speed(speechd):
    need(speechd, "pico", "piper", "espeak")
    for engine in ("pico", "piper", "espeak"):
        durations = {}
        for speed in (1.0, 2.0):
            status, headers, _ = speak(speechd, input="Please hold while we transfer your call.",
                                       model=engine, speed=speed, response_format="pcm")
            assert status == 200
            durations[speed] = float(headers["X-Audio-Duration"])
        assert durations[2.0] < 0.75 * durations[1.0], (engine, durations)


def test_piper_voice_is_loaded_once(speechd):
    need(speechd, "piper")
    before = piper_loaded(speechd)
    assert before["loaded"] and before["load_ms"] and not before["loading"]
    for _ in range(2):
        status, _, _ = speak(speechd, input="Thank you for calling.", model="piper",
                             response_format="wav")
        assert status == 200
    after = engines(speechd)["piper"]
    assert after["load_ms"] == before["load_ms"]
    assert after["requests"] == before["requests"] + 2


def test_latency_per_engine(speechd):
    """Per-request latency of a typical prompt (about 2.5 s of speech), printed; fails only on
    a gross regression."""
    text = "Your appointment is confirmed for Monday morning. Press one to confirm."
    piper_loaded(speechd)
    for engine, e in engines(speechd).items():
        if not e["available"]:
            continue
        times, rtf = [], []
        for _ in range(3):
            t0 = time.monotonic()
            status, headers, _ = speak(speechd, input=text, model=engine, response_format="wav",
                                       sample_rate=8000)
            times.append((time.monotonic() - t0) * 1000)
            assert status == 200
            rtf.append(times[-1] / 1000 / float(headers["X-Audio-Duration"]))
        print("%s: request ms median %.0f (min %.0f, max %.0f), real-time factor %.3f"
              % (engine, statistics.median(times), min(times), max(times), statistics.median(rtf)))
        assert statistics.median(times) < 3000, engine


def test_two_requests_at_once(speechd):
    need(speechd, "pico", "piper")
    jobs = [("piper", "Please call us back at your earliest convenience."),
            ("piper", "Your order has been shipped."),
            ("pico", "Il suo ordine è stato spedito."),
            ("espeak", "Thank you for calling.")]

    def one(job):
        t0 = time.monotonic()
        status, headers, wav = speak(speechd, input=job[1], model=job[0], response_format="wav")
        return job, status, headers, wav, (time.monotonic() - t0) * 1000
    for pair in (jobs[:2], jobs[1:3], jobs[2:]):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(one, pair))
        for (engine, text), status, headers, wav, ms in results:
            assert status == 200, wav
            assert headers["X-Apicall-Engine"] == engine
            assert wav_info(wav)[3] > 0.5 * wav_info(wav)[0]
        print("at once: " + ", ".join("%s %.0f ms" % (r[0][0], r[4]) for r in results))


def test_models_and_health_list_tts_engines(speechd):
    status, _, data = speechd.request("GET", "/v1/models")
    assert status == 200
    models = {m["id"]: m for m in json.loads(data)["data"]}
    assert models["whisper-tiny.en"]["type"] == "stt"
    tts = speechd.health()["tts"]
    for name, e in tts["engines"].items():
        if e["available"]:
            assert models[name]["type"] == "tts" and models[name]["languages"], name
        else:
            assert name not in models and e["reason"], name
    if tts["engines"]["pico"]["available"]:
        assert "it-IT" in models["pico"]["voices"]
        assert tts["defaults"]["it"] == "pico"
    if tts["engines"]["piper"]["available"]:
        assert models["piper"]["voices"] == ["joe"] and tts["defaults"]["en"] == "piper"
    # The name OpenAI clients send by default (the module's tts_model setting) is listed.
    assert models["tts-1"]["type"] == "tts"


# ------------------------------------------------------------------ errors as OpenAI answers them
def check_error(status, body, want_status, code, param=None, mentions=None):
    assert status == want_status, body
    assert set(body) == {"error"}, body
    err = body["error"]
    assert err["code"] == code and err["type"] and err["message"], err
    if param:
        assert err["param"] == param, err
    if mentions:
        assert mentions in err["message"], err


@pytest.mark.parametrize("fields,code,param,mentions", [
    ({"input": "hello", "language": "xx"}, "unsupported_language", "language", "'xx'"),
    ({"input": "hello", "language": "tlh-KLINGON"}, "unsupported_language", "language",
     "tlh-klingon"),
    ({"input": "hello", "language": "not a language!"}, "unsupported_language", "language",
     "not a language!"),
    ({"input": "hello", "model": "pico", "language": "ja"}, "unsupported_language", "language",
     "'ja' is not supported by pico"),
    ({"input": "hello", "model": "piper", "language": "it-IT"}, "unsupported_language",
     "language", "'it-IT'"),
    ({"input": "hello", "model": "tts-9"}, "model_not_found", "model", "tts-9"),
    ({"input": "hello", "model": 5}, "invalid_field", "model", None),
    ({"input": "hello", "voice": "nobody"}, "voice_not_found", "voice", "nobody"),
    ({"input": "hello", "voice": "joe", "language": "it"}, "invalid_field", "voice", "en-US"),
    ({"input": "hello", "model": "pico", "voice": "joe"}, "voice_not_found", "voice", "pico"),
    ({"input": "hello", "voice": "espeak:it+nosuchvariant"}, "voice_not_found", "voice", None),
    ({}, "missing_field", "input", None),
    ({"input": ""}, "invalid_field", "input", None),
    ({"input": "   "}, "invalid_field", "input", None),
    ({"input": 42}, "invalid_field", "input", None),
    ({"input": "x" * 4097}, "string_too_long", "input", "4096"),
    ({"input": "hello", "response_format": "ogg"}, "invalid_field", "response_format", "wav"),
    ({"input": "hello", "speed": 0}, "invalid_field", "speed", None),
    ({"input": "hello", "speed": 4.5}, "invalid_field", "speed", None),
    ({"input": "hello", "speed": "fast"}, "invalid_field", "speed", None),
    ({"input": "hello", "speed": True}, "invalid_field", "speed", None),
    ({"input": "hello", "sample_rate": 12345}, "invalid_field", "sample_rate", "8000"),
    ({"input": "hello", "sample_rate": "8000"}, "invalid_field", "sample_rate", None),
    ({"input": "hello", "response_format": "opus", "sample_rate": 22050}, "invalid_field",
     "sample_rate", None),
], ids=lambda v: str(v)[:40] if isinstance(v, (dict, str)) else None)
def test_bad_requests_are_400(speechd, fields, code, param, mentions):
    need(speechd, "pico", "piper", "espeak")
    status, _, body = speak(speechd, **fields)
    check_error(status, body, 400, code, param, mentions)


def test_not_json_is_400(speechd):
    status, _, body = speak(speechd, raw=b"{input: hello")
    check_error(status, body, 400, "invalid_json")
    status, _, body = speak(speechd, raw=b'["input", "hello"]')
    check_error(status, body, 400, "invalid_json")
    status, _, body = speak(speechd, raw=b'{"input": "\xff\xfe"}')
    check_error(status, body, 400, "invalid_json")


def test_form_body_is_415(speechd):
    status, _, body = speak(speechd, content_type="application/x-www-form-urlencoded",
                            raw=b"input=hello")
    check_error(status, body, 415, "unsupported_media_type")


def test_huge_body_is_413(speechd):
    status, _, body = speak(speechd, raw=json.dumps({"input": "x" * 300000}).encode())
    check_error(status, body, 413, "body_too_large")


def test_text_is_never_markup_or_an_option(speechd):
    """pico reads <...> as markup and both tools read a leading '-' as an option: the text is
    spoken as text."""
    need(speechd, "pico", "espeak")
    for engine in ("pico", "espeak"):
        for text in ("--help", "-w /tmp/x.wav hello", "<speed level='500'>fast</speed> hello",
                     "</genfile> <play file='/etc/passwd'> hello"):
            status, headers, wav = speak(speechd, input=text, model=engine,
                                         response_format="wav")
            assert status == 200, (engine, text, wav)
            assert wav_info(wav)[3] > 0.2 * wav_info(wav)[0], (engine, text)


def test_punctuation_only_is_short_audio(speechd):
    need(speechd, "pico", "piper", "espeak")
    for engine in ("pico", "piper", "espeak"):
        status, _, wav = speak(speechd, input="...", model=engine, response_format="wav")
        assert status == 200, (engine, wav)
        rate, _, _, frames = wav_info(wav)
        assert 0 < frames / rate < 3.0, engine


def test_errors_leave_the_service_up(speechd):
    assert speechd.proc.poll() is None
    status, _, _ = speak(speechd, input="Still here.", response_format="wav")
    assert status == 200


# ------------------------------------------------------------------ fewer engines installed
def test_without_pico_and_piper_everything_falls_back_to_espeak(speechd_english_only):
    """The Unix-socket instance runs with --tts-engines espeak (as a host without the Debian
    non-free component and without the piper voice would)."""
    svc = speechd_english_only
    e = engines(svc)
    assert e["espeak"]["available"] and not e["pico"]["available"]
    assert not e["piper"]["available"] and "disabled" in e["pico"]["reason"]
    for lang in ("en", "it", "de-DE"):
        status, headers, body = speak(svc, input="Grazie.", language=lang, response_format="wav")
        assert status == 200, body
        assert headers["X-Apicall-Engine"] == "espeak"
    status, _, body = speak(svc, input="hello", model="pico")
    check_error(status, body, 400, "model_not_found", "model", "not installed")


def test_pico_missing_is_reported(monkeypatch, tmp_path):
    """pico2wave not on PATH: the engine says why and the choice skips it."""
    svc = speechlib.service_module_cached()
    monkeypatch.setenv("PATH", str(tmp_path))
    tts = svc.Speaker(("pico", "espeak"), tmp_dir=str(tmp_path))
    tts.discover()
    pico = tts.engines["pico"]
    assert not pico.available and "libttspico-utils" in pico.reason
    assert not tts.engines["espeak"].available
    with pytest.raises(svc.ApiError) as err:
        tts.choose(None, None, "it")
    assert err.value.status == 400 and err.value.code == "unsupported_language"
    assert "'it'" in err.value.message
