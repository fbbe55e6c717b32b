"""The release tarball (make dist) installed the way FreePBX 17 installs a module, on the
running stack, and removed again.

Module Admin's upload is followed by hand: the tarball is unpacked, it must hold one top
folder with module.xml, that folder replaces admin/modules/<rawname> of a SEPARATE
stand-in web root (own database, own web root; the stack's MariaDB, Asterisk, spool,
dialplan and agi-bin), agi-bin gets mode 755, FreePBX's files belong to asterisk. Then,
as the asterisk user with the stand-in's fwconsole: `ma install apicall`, `reload` (the
stack's Asterisk reloads the dialplan the module wrote), a real call placed through the
module's own index.php served with the tarball's own PHP extension, `apicall:status`, and
`ma uninstall apicall`; what is left is only what FreePBX keeps. The stack's dialplan file
is put back as it was at the end.

Needs `make up`, `make dist` (tests/dist/run.sh does both orders) and root.
SPDX-License-Identifier: GPL-3.0-or-later
"""

import json
import os
import pathlib
import posixpath
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import tempfile
import time
import urllib.request
import xml.etree.ElementTree as ET

import importlib.util
import pymysql
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
STACK = pathlib.Path(os.environ.get("STACK", REPO / ".stack"))
FWCONSOLE = REPO / "tests/freepbx/fwconsole"
PHP_DEFAULT_SCAN_DIR = "/etc/php/8.2/cli/conf.d"


def env():
    out = {}
    for line in (STACK / "env").read_text().splitlines():
        m = re.match(r"^([A-Z_][A-Z0-9_]*)=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


ENV = env()


def _integration_helpers():
    """tests/integration/conftest.py, for its recording measures (read_wav, active_span)."""
    spec = importlib.util.spec_from_file_location("integration_conftest", REPO / "tests/integration/conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


AUDIO = _integration_helpers()


def recording_closed(path):
    """Whether Asterisk has closed the WAV: it fills in the RIFF size when the call ends."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return False
    return size > 44 and len(head) == 8 and int.from_bytes(head[4:8], "little") == size - 8
VERSION = ET.parse(REPO / "module.xml").getroot().findtext("version")
TARBALL = REPO / "dist" / f"apicall-{VERSION}.tgz"


def root_sql(sql):
    subprocess.run(["mysql", "--no-defaults", "-uroot", f"--socket={ENV['DB_SOCKET']}", "-e", sql], check=True)


def db(name):
    return pymysql.connect(host=ENV["DB_HOST"], port=int(ENV["DB_PORT"]), user=ENV["DB_USER"],
                           password=ENV["DB_PASS"], database=name, autocommit=True)


def as_asterisk(args, extra_env=None, timeout=120, check=True):
    """Runs args as the asterisk user with a clean environment (+ extra_env)."""
    e = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": "/tmp", "LANG": "C.UTF-8",
         "ODBCSYSINI": ENV["ODBCSYSINI"], "ODBCINI": ENV["ODBCINI"]}
    e.update(extra_env or {})
    cmd = ["runuser", "-u", "asterisk", "--", "env", "-i"] + [f"{k}={v}" for k, v in e.items()] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/tmp")
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} exited {r.returncode}\n{r.stdout}\n{r.stderr}")
    return r


def php_str(value):
    """A PHP single-quoted string literal."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def safe_extract(tarball, dest, members=None):
    """Extracts regular files and folders only, refusing absolute paths and '..'."""
    with tarfile.open(tarball) as t:
        chosen = [m for m in t.getmembers() if members is None or m.name in members]
        for m in chosen:
            assert m.isfile() or m.isdir(), f"{m.name}: not a file or folder"
            assert not m.name.startswith("/") and ".." not in pathlib.PurePosixPath(m.name).parts, m.name
        t.extractall(dest, members=chosen)


def unpack_like_module_admin(tarball, modules_dir):
    """Module Admin's upload: module.xml at the top or in exactly one top folder; the
    module goes to admin/modules/<rawname> (an old copy is removed first); bin, hooks and
    agi-bin get mode 755. Returns the module folder."""
    scratch = pathlib.Path(tempfile.mkdtemp(prefix="apicall-upload-"))
    try:
        safe_extract(tarball, scratch)
        tops = [p for p in scratch.iterdir()]
        if (scratch / "module.xml").is_file():
            src = scratch
        else:
            assert len(tops) == 1 and tops[0].is_dir(), f"one top folder expected, got {tops}"
            src = tops[0]
        rawname = ET.parse(src / "module.xml").getroot().findtext("rawname")
        dest = modules_dir / rawname
        if dest.exists() or dest.is_symlink():
            shutil.rmtree(dest) if dest.is_dir() and not dest.is_symlink() else dest.unlink()
        shutil.move(str(src), dest)
        for sub in ("bin", "hooks", "agi-bin"):
            if (dest / sub).is_dir():
                for f in (dest / sub).iterdir():
                    f.chmod(0o755)
        return dest
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# ------------------------------------------------------------------ the tarball


def test_tarball_holds_one_apicall_folder_with_the_module_and_nothing_else():
    assert TARBALL.is_file(), f"{TARBALL} missing: run make dist"
    with tarfile.open(TARBALL) as t:
        members = t.getmembers()
    names = [m.name for m in members]
    assert {n.split("/")[0] for n in names} == {"apicall"}, "one top folder apicall/"
    for must in ["module.xml", "Apicall.class.php", "Backup.php", "Restore.php", "Job.php", "page.apicall.php",
                 "install.php", "uninstall.php", "index.php", "aibot.php", "cdr.php", "answer.php",
                 "includes/bootstrap.php", "includes/public.php", "includes/agi.php", "includes/extension.php",
                 "includes/speech.php", "includes/cli.php", "views/main.php",
                 "assets/js/apicall.js", "assets/css/apicall.css", "agi-bin/apicall.php",
                 "Console/ApicallStatus.class.php", "Console/ApicallSpeech.class.php", "README.md", "LICENSE",
                 "ext/apicall.so", "bin/apicall", "bin/apicall-speech", "bin/apicall-speechd",
                 "bin/requirements-speechd.txt"]:
        assert f"apicall/{must}" in names, must
    # Every file the module's PHP requires from its own folders ships with it.
    with tarfile.open(TARBALL) as t:
        for m in t.getmembers():
            if m.isfile() and m.name.endswith(".php"):
                text = t.extractfile(m).read().decode()
                for rel in re.findall(r"require(?:_once)?\s+__DIR__\s*\.\s*'(/[^']+)'", text):
                    needed = posixpath.normpath(posixpath.dirname(m.name) + rel)
                    assert needed in names, f"{m.name} requires {rel}: not in the tarball"
    for bad in ("target/", "tests/", ".stack", ".git", "rust/", "Cargo", "dist/", "node_modules", "__pycache__"):
        assert not [n for n in names if bad in n], f"{bad} must not be in the tarball"
    modes = {m.name: m.mode & 0o777 for m in members}
    assert modes["apicall/agi-bin/apicall.php"] == 0o755
    assert modes["apicall/ext/apicall.so"] == 0o644
    for exe in ("bin/apicall", "bin/apicall-speech", "bin/apicall-speechd"):
        assert modes[f"apicall/{exe}"] == 0o755, exe
    assert modes["apicall/bin/requirements-speechd.txt"] == 0o644
    assert all(m.uid == 0 and m.gid == 0 for m in members), "owned by root:root like a release"
    assert all(m.isfile() or m.isdir() for m in members), "no links or devices"


def test_release_extension_is_stripped_x86_64_php82_and_loads(tmp_path):
    safe_extract(TARBALL, tmp_path, ["apicall/ext/apicall.so"])
    so = tmp_path / "apicall/ext/apicall.so"
    info = subprocess.run(["file", "-b", str(so)], capture_output=True, text=True).stdout
    assert "ELF 64-bit LSB shared object, x86-64" in info and "stripped" in info and "not stripped" not in info, info
    sections = subprocess.run(["readelf", "-S", str(so)], capture_output=True, text=True).stdout
    assert ".debug_info" not in sections and ".symtab" not in sections, "no debug info, no symbol table"
    needed = subprocess.run(["readelf", "-d", str(so)], capture_output=True, text=True).stdout
    assert "libmp3lame.so.0" in needed, "links LAME (Debian package libmp3lame0), as the README says"
    r = subprocess.run(["php", "-n", "-d", f"extension={so}", "-r", 'echo Apicall\\version(), " ", PHP_VERSION;'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    version, php = r.stdout.split()
    assert version == VERSION and php.startswith("8.2."), r.stdout


def test_release_cli_is_stripped_x86_64_and_answers_json(tmp_path):
    safe_extract(TARBALL, tmp_path, ["apicall/bin/apicall", "apicall/bin/requirements-speechd.txt",
                                     "apicall/bin/apicall-speechd"])
    cli = tmp_path / "apicall/bin/apicall"
    info = subprocess.run(["file", "-b", str(cli)], capture_output=True, text=True).stdout
    assert "ELF 64-bit LSB" in info and "x86-64" in info and ", stripped" in info, info
    sections = subprocess.run(["readelf", "-S", str(cli)], capture_output=True, text=True).stdout
    assert ".debug_info" not in sections and ".symtab" not in sections, "no debug info, no symbol table"
    r = subprocess.run([str(cli), "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == f"apicall {VERSION}", r.stdout + r.stderr
    r = subprocess.run([str(cli), "--config", "-", "providers"], capture_output=True, text=True, timeout=60,
                       input=json.dumps({"tts_provider": "espeak", "stt_provider": "local",
                                         "stt_url": "http://127.0.0.1:8765"}))
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["ok"] is True and out["tts"] == ["espeak"] and out["stt"] == ["local"], r.stdout
    # The shipped service and its pins are the repository's.
    assert (tmp_path / "apicall/bin/requirements-speechd.txt").read_bytes() == (REPO / "bin/requirements-speechd.txt").read_bytes()
    assert (tmp_path / "apicall/bin/apicall-speechd").read_bytes() == (REPO / "bin/apicall-speechd").read_bytes()


# -------------------------------------------------------- install, call, uninstall


@pytest.fixture(scope="module")
def site():
    """A separate stand-in FreePBX: web root, database, log and sound folders of its own."""
    if os.geteuid() != 0:
        pytest.fail("the dist test needs root (database superuser, runuser)")
    base = pathlib.Path(tempfile.mkdtemp(prefix="apicall-dist-"))
    dbname = "apicall_dist_" + os.urandom(4).hex()
    user = ENV["DB_USER"]
    root_sql(f"CREATE DATABASE `{dbname}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; "
             f"GRANT ALL PRIVILEGES ON `{dbname}`.* TO '{user}'@'localhost', '{user}'@'127.0.0.1'")
    for d in ("www/admin/modules", "lib", "log", "etc-after"):
        (base / d).mkdir(parents=True)
    stack_amp = json.loads(subprocess.run(
        ["php", "-r", '$bootstrap_settings = ["returnimmediately" => true]; $amp_conf = []; '
                      'include getenv("FREEPBX_CONF"); echo json_encode($amp_conf);'],
        capture_output=True, text=True, check=True, env={**os.environ, "FREEPBX_CONF": ENV["FREEPBX_CONF"]}).stdout)
    amp = dict(stack_amp, AMPDBNAME=dbname, AMPWEBROOT=str(base / "www"), ASTVARLIBDIR=str(base / "lib"),
               ASTLOGDIR=str(base / "log"))
    conf = base / "freepbx.conf"
    conf.write_text("<?php\n"
                    + "".join(f"$amp_conf[{php_str(k)}] = {php_str(v)};\n" for k, v in amp.items())
                    + f"require_once {php_str(REPO / 'tests/freepbx/bootstrap.php')};\n")
    dialplan = pathlib.Path(ENV["ASTETCDIR"]) / "extensions_additional.conf"
    saved_dialplan = dialplan.read_bytes()
    agi_before = {p.name: p.read_bytes() for p in pathlib.Path(ENV["ASTAGIDIR"]).iterdir()}
    subprocess.run(["chown", "-R", "asterisk:asterisk", str(base)], check=True)
    base.chmod(0o755)
    yield {"base": base, "conf": str(conf), "db": dbname, "webroot": base / "www"}
    # Leave the stack as it was: its dialplan file, its agi-bin, no extra database.
    if dialplan.read_bytes() != saved_dialplan:
        dialplan.write_bytes(saved_dialplan)
        subprocess.run([ENV["AST_CLI"], "dialplan reload"], capture_output=True)
    for p in pathlib.Path(ENV["ASTAGIDIR"]).iterdir():
        if p.name not in agi_before:
            p.unlink()
        elif p.read_bytes() != agi_before[p.name]:
            p.write_bytes(agi_before[p.name])
    root_sql(f"REVOKE ALL PRIVILEGES ON `{dbname}`.* FROM '{user}'@'localhost', '{user}'@'127.0.0.1'; DROP DATABASE `{dbname}`")
    shutil.rmtree(base, ignore_errors=True)


def fw(site, *args, extension=None, timeout=120, check=True, env=None):
    """The stand-in fwconsole on the separate site, as asterisk. extension: a .so for the
    CLI's PHP (default: the stack's CLI ini dir, i.e. the stack's debug build); env: more
    variables."""
    if extension is None:
        cmd, scan = ["php", str(FWCONSOLE)], ENV["PHP_INI_SCAN_DIR"]
    else:
        cmd, scan = ["php", "-d", f"extension={extension}", str(FWCONSOLE)], PHP_DEFAULT_SCAN_DIR
    return as_asterisk(cmd + list(args), {"FREEPBX_CONF": site["conf"], "PHP_INI_SCAN_DIR": scan, **(env or {})},
                       timeout=timeout, check=check)


def fw_root(site, *args, env=None, timeout=120):
    """The stand-in fwconsole on the separate site, as root (apicall:speech install)."""
    e = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LANG": "C.UTF-8",
         "FREEPBX_CONF": site["conf"], "PHP_INI_SCAN_DIR": ENV["PHP_INI_SCAN_DIR"],
         "ODBCSYSINI": ENV["ODBCSYSINI"], "ODBCINI": ENV["ODBCINI"], **(env or {})}
    return subprocess.run(["php", str(FWCONSOLE)] + list(args), env=e, capture_output=True, text=True,
                          timeout=timeout, cwd="/tmp")


# The shipped control script pointed at the stack's speech service (venv, models, pid file).
STACK_SPEECH = {"APICALL_SPEECH_VENV": str(STACK / "speech-venv"), "APICALL_SPEECH_MODELS": str(STACK / "speechd/models"),
                "APICALL_SPEECH_RUN": str(STACK / "speechd"), "APICALL_SPEECH_LOG": str(STACK / "speechd/speechd.log"),
                "APICALL_SPEECH_EXTRA_REQUIREMENTS": str(REPO / "tests/speechd/requirements.txt")}


def speech_health():
    try:
        with urllib.request.urlopen("http://127.0.0.1:8765/health", timeout=3) as resp:
            return json.loads(resp.read())
    except (OSError, ValueError):
        return {}


def test_install_reload_call_status_uninstall(site):
    modules = site["webroot"] / "admin/modules"
    module = unpack_like_module_admin(TARBALL, modules)
    subprocess.run(["chown", "-R", "asterisk:asterisk", str(module)], check=True)
    assert module == modules / "apicall" and (module / "module.xml").is_file()
    so = module / "ext/apicall.so"

    # fwconsole ma install apicall (Module Admin's install), not as root.
    r = fw(site, "ma", "install", "apicall")
    assert "Module apicall successfully installed" in r.stdout, r.stdout
    assert "the PHP extension could not be enabled: this install does not run as root. " \
           "As root, run: fwconsole apicall:enable" in r.stdout, r.stdout
    public = site["webroot"] / "apicall"
    assert sorted(p.name for p in public.iterdir()) == ["aibot.php", "answer.php", "cdr.php", "index.php"]
    assert all(os.readlink(public / n) == str(module / n) for n in ("index.php", "aibot.php"))
    token = fw(site, "apicall:token").stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", token)

    # fwconsole reload: the stack's Asterisk loads the dialplan this install wrote.
    r = fw(site, "reload")
    assert "Reload Complete" in r.stdout, r.stdout
    dialplan = (pathlib.Path(ENV["ASTETCDIR"]) / "extensions_additional.conf").read_text()
    assert "exten => s,n,EAGI(apicall.php,session)" in dialplan
    assert (pathlib.Path(ENV["ASTAGIDIR"]) / "apicall.php").read_bytes() == (module / "agi-bin/apicall.php").read_bytes()
    shown = subprocess.run([ENV["AST_CLI"], "dialplan show apicall-message"], capture_output=True, text=True).stdout
    assert "Playback(${APICALL_MESSAGE})" in shown, shown

    # A call through the module's own index.php with the tarball's extension, served as asterisk.
    port = free_port()
    server = subprocess.Popen(
        ["runuser", "-u", "asterisk", "--", "env", "-i", "PATH=/usr/bin:/bin", f"PHP_INI_SCAN_DIR={PHP_DEFAULT_SCAN_DIR}",
         f"FREEPBX_CONF={site['conf']}", "php", "-d", f"extension={so}", "-d", "display_errors=0",
         "-S", f"127.0.0.1:{port}", "-t", str(site["webroot"])],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, cwd="/tmp")
    try:
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        with db(ENV["CDR_DB"]) as c, c.cursor() as cur:
            cur.execute("SELECT NOW()")
            call_started = cur.fetchone()[0]
        body = json.dumps({"tocall": "2001", "message": "This call comes from the release tarball.", "language": "en"})
        req = urllib.request.Request(f"http://127.0.0.1:{port}/apicall/index.php", data=body.encode(), method="POST",
                                     headers={"token": token, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.loads(resp.read())
        assert answer["status"] == "queued", answer
        bad = urllib.request.Request(f"http://127.0.0.1:{port}/apicall/index.php", data=body.encode(), method="POST",
                                     headers={"token": "0" * 64, "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(bad, timeout=30)
        assert e.value.code == 401
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(10)
    # 2001 records silence too, so the file's size says nothing: once the call has ended, what
    # the phone heard must be voiced audio as long as the message.
    expected = answer["message_seconds"]
    assert expected > 1.5, answer
    wav = pathlib.Path(ENV["PHONES_DIR"]) / f"2001-{answer['id']}.wav"
    deadline = time.time() + 45
    while time.time() < deadline and not recording_closed(wav):
        time.sleep(0.25)
    assert recording_closed(wav), f"phone 2001 recorded the call and hung up ({wav})"
    span, voiced = AUDIO.active_span(*AUDIO.read_wav(wav))
    assert abs(span - expected) < 0.8, f"voiced for {span} s, the message lasts {expected} s"
    assert voiced > 0.5 * expected, f"voiced frames {voiced} s of the message's {expected} s"
    # The CDR row is written when the phone hangs up (after 5 s of silence).
    deadline, rows = time.time() + 60, ()
    while time.time() < deadline and not rows:
        with db(ENV["CDR_DB"]) as c, c.cursor() as cur:
            cur.execute("SELECT disposition FROM cdr WHERE dst = '2001' AND channel LIKE %s AND calldate >= %s",
                        ("%;2", call_started))
            rows = cur.fetchall()
        time.sleep(0.5)
    assert ("ANSWERED",) in rows, "the call is in Asterisk's CDR as answered"

    # fwconsole apicall:status with the tarball's extension in the CLI.
    r = fw(site, "apicall:status", extension=so)
    assert r.returncode == 0 and f"apicall {VERSION} loaded" in r.stdout, r.stdout

    # The local speech service through the tarball's control script, on the stack's service.
    stack_pid = speech_health().get("pid")
    assert stack_pid, "the stack's speech service runs (make up)"
    r = fw(site, "apicall:speech", "status", env=STACK_SPEECH)
    assert f"apicall-speech: running (pid {stack_pid}, http://127.0.0.1:8765, models: " in r.stdout, r.stdout
    r = fw(site, "apicall:speech", "install", env=STACK_SPEECH, check=False)
    assert r.returncode == 1 and "needs root" in r.stdout and "As root, run: fwconsole apicall:speech install" in r.stdout, r.stdout
    t = time.time()
    r = fw_root(site, "apicall:speech", "install", env=STACK_SPEECH)
    took = time.time() - t
    assert r.returncode == 0, r.stdout + r.stderr
    for line in ("apicall-speech: pico2wave present", f"apicall-speech: venv present ({STACK / 'speech-venv'})",
                 "apicall-speech: model whisper-tiny.en", f"apicall-speech: running (pid {stack_pid}, http://127.0.0.1:8765)"):
        assert line in r.stdout, r.stdout
    speech_data = site["base"] / "lib/apicall/speech"
    assert f"install done in" in r.stdout and f"(data: {speech_data})" in r.stdout, r.stdout
    assert speech_data.is_dir() and speech_data.owner() == "asterisk", "the data folder belongs to asterisk"
    print(f"apicall:speech install with the venv present: {took:.1f} s")
    # The tarball's own command-line tool, with this install's settings.
    r = fw(site, "apicall:providers")
    providers = json.loads(r.stdout)
    assert providers["ok"] is True and providers["stt"] == ["local"], r.stdout

    # fwconsole ma uninstall apicall: nothing of the module left but what FreePBX keeps.
    r = fw(site, "ma", "uninstall", "apicall")
    assert "Module apicall successfully uninstalled" in r.stdout, r.stdout
    with db(site["db"]) as c, c.cursor() as cur:
        cur.execute("SHOW TABLES")
        tables = sorted(t for (t,) in cur.fetchall())
        cur.execute("SELECT COUNT(*) FROM kvstore_FreePBX_modules_Apicall")
        kv = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM modules WHERE modulename = 'apicall'")
        listed = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM cron_jobs WHERE modulename = 'apicall'")
        jobs = cur.fetchone()[0]
    assert not [t for t in tables if t.startswith("apicall_")], tables
    assert (kv, listed, jobs) == (0, 0, 0), "kvstore emptied (FreePBX keeps the empty table), module and job unlisted"
    assert not public.exists(), "public folder removed"
    assert not (site["webroot"] / "admin/assets/apicall").exists(), "assets link removed"
    assert not (site["base"] / "lib/sounds/apicall").exists(), "speech cache removed"
    assert not (site["base"] / "lib/apicall").exists(), "speech service data removed"
    assert speech_health().get("pid") == stack_pid, "the stack's service (not this install's) untouched"
    # What FreePBX keeps: the module's files until `ma remove`, the agi-bin copy.
    assert (module / "module.xml").is_file()
    assert (pathlib.Path(ENV["ASTAGIDIR"]) / "apicall.php").is_file()
    # A reload now writes no apicall context.
    after = site["base"] / "etc-after"
    conf2 = site["base"] / "freepbx-after.conf"
    conf2.write_text(pathlib.Path(site["conf"]).read_text().replace(
        "require_once", f"$amp_conf['ASTETCDIR'] = {php_str(after)};\n"
                        f"$amp_conf['ASTAGIDIR'] = {php_str(after)};\nrequire_once", 1))
    conf2.chmod(0o644)
    as_asterisk(["php", str(REPO / "tests/freepbx/tools/reload.php")],
                {"FREEPBX_CONF": str(conf2), "PHP_INI_SCAN_DIR": ENV["PHP_INI_SCAN_DIR"]})
    assert "[apicall-" not in (after / "extensions_additional.conf").read_text()
