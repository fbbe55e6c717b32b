<?php

/**
 * The local speech service run the FreePBX way, against the stack's real service
 * (bin/apicall-speechd on 127.0.0.1:8765, started by tests/stack/speechd.sh): the module's
 * control script through `fwconsole apicall:speech`, the `fwconsole start`/`stop` hooks of
 * module.xml (the stand-in's start/stop run them as FreePBX's do), the every-minute job's
 * watchdog, the fix commands of apicall:status, and apicall:providers/tts/stt wrapping the
 * command-line tool. On a scratch install of the module; the control script is pointed
 * at the stack's venv, models and pid file with its APICALL_SPEECH_* variables. The
 * stack's service is stopped and restarted by these tests and left running.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

const FWCONSOLE = __DIR__ . '/../freepbx/fwconsole';
const HEALTH = 'http://127.0.0.1:8765/health';

/** The scratch install shared by this file's tests (installed on first use). */
function install(): array
{
    static $install = null;
    if ($install === null) {
        $install = scratch_install();
        [$code, $out, $err] = fw($install, ['ma', 'install', 'apicall']);
        eq(0, $code, "fwconsole ma install apicall: $out $err");
        cleanup(static function (): void {
            // Whatever happened above: the stack's speech service runs again afterwards.
            run_cmd(['bash', repo() . '/tests/stack/speechd.sh', 'start'], getenv(), 120);
        });
    }
    return $install;
}

/** The control script's variables that point it at the stack's service. */
function stack_speech(): array
{
    $s = stack_dir();
    return ['APICALL_SPEECH_VENV' => "$s/speech-venv", 'APICALL_SPEECH_MODELS' => "$s/speechd/models",
        'APICALL_SPEECH_RUN' => "$s/speechd", 'APICALL_SPEECH_LOG' => "$s/speechd/speechd.log"];
}

/** fwconsole ARGS as the asterisk user on the scratch install. */
function fw(array $install, array $args, array $env = []): array
{
    return run_as_asterisk(array_merge([PHP_BINARY, realpath(FWCONSOLE)], $args), ['FREEPBX_CONF' => $install['conf']] + $env, 120);
}

/** fwconsole ARGS as root (fwconsole start/stop need root), with the stack's environment. */
function fw_root(array $install, array $args, array $env = []): array
{
    $stack = stack_env();
    $vars = ['PATH' => '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME' => '/root', 'LANG' => 'C.UTF-8',
        'FREEPBX_CONF' => $install['conf'], 'PHP_INI_SCAN_DIR' => $stack['PHP_INI_SCAN_DIR'],
        'ODBCSYSINI' => $stack['ODBCSYSINI'], 'ODBCINI' => $stack['ODBCINI']] + $env;
    return run_cmd(array_merge([PHP_BINARY, realpath(FWCONSOLE)], $args), $vars, 120, '/tmp');
}

/** Whether the stack's service answers /health with status ok. */
function healthy(): bool
{
    $ctx = stream_context_create(['http' => ['timeout' => 3, 'ignore_errors' => true]]);
    $body = @file_get_contents(HEALTH, false, $ctx);
    $json = is_string($body) ? json_decode($body, true) : null;
    return is_array($json) && ($json['status'] ?? '') === 'ok';
}

function stack_pid(): int
{
    return (int) @file_get_contents(stack_dir() . '/speechd/speechd.pid');
}

/** Sets (or with null deletes) a setting in the scratch install's kvstore. */
function set_setting(array $install, string $key, ?string $value): void
{
    $pdo = stack_pdo();
    $table = "`{$install['db']}`.`kvstore_FreePBX_modules_Apicall`";
    $pdo->prepare("DELETE FROM $table WHERE `key` = ? AND `id` = 'noid'")->execute([$key]);
    if ($value !== null) {
        $pdo->prepare("INSERT INTO $table (`key`, `val`, `type`, `id`) VALUES (?, ?, NULL, 'noid')")->execute([$key, $value]);
    }
}

/** The command-line tool as built by cargo (the rust suite builds it), or skip. */
function cli(): string
{
    foreach (['debug', 'release'] as $profile) {
        $bin = repo() . "/target/$profile/apicall";
        if (is_file($bin) && is_executable($bin)) {
            return $bin;
        }
    }
    skip('the command-line tool is not built (cargo build -p apicall-cli)');
}

test('[stack] apicall:speech status reports the stack\'s service; install needs root and says so', function (): void {
    $i = install();
    ok(healthy(), 'the stack\'s speech service runs (make up)');
    [$code, $out, $err] = fw($i, ['apicall:speech', 'status'], stack_speech());
    eq(0, $code, "$out $err");
    contains('apicall-speech: running (pid ' . stack_pid() . ', http://127.0.0.1:8765, models: ', $out);
    contains('"status": "ok"', $out, 'the /health answer');
    [$code, $out] = fw($i, ['apicall:speech', 'install'], stack_speech());
    eq(1, $code, $out);
    contains('Installing the local speech service needs root (Debian packages). As root, run: fwconsole apicall:speech install', $out);
    // Nothing installed where this install keeps it ($ASTVARLIBDIR/apicall/speech).
    [$code, $out] = fw($i, ['apicall:speech', 'status'], ['APICALL_SPEECH_PORT' => (string) free_port()]);
    eq(4, $code, $out);
    contains('apicall-speech: not installed (' . $i['dir'] . '/lib/apicall/speech/venv)', $out);
    [$code, $out] = fw($i, ['apicall:speech', 'bogus']);
    eq(2, $code, $out);
});

test('[stack] apicall:status says the exact command that fixes a speech service that is down', function (): void {
    $i = install();
    $port = free_port();
    set_setting($i, 'stt_url', "http://127.0.0.1:$port");
    try {
        [$code, $out] = fw($i, ['apicall:status']);
        eq(1, $code, $out);
        ok((bool) preg_match("#^FAIL +Speech service +GET http://127\\.0\\.0\\.1:$port/health: .*: not installed; to install it, as root: fwconsole apicall:speech install$#m", $out), $out);
        $run = tmpdir('apicall-speech-run');
        chown($run, 'asterisk');
        [$code, $out] = fw($i, ['apicall:status'], ['APICALL_SPEECH_VENV' => stack_speech()['APICALL_SPEECH_VENV'], 'APICALL_SPEECH_RUN' => $run]);
        eq(1, $code, $out);
        ok((bool) preg_match('#^FAIL +Speech service +.*: not running; to start it: fwconsole apicall:speech start$#m', $out), $out);
        // Not in use: not a failure, the fix still named.
        set_setting($i, 'tts_provider', 'openai');
        set_setting($i, 'stt_provider', 'openai');
        [, $out] = fw($i, ['apicall:status']);
        ok((bool) preg_match('#^OK +Speech service +not in use \(tts_provider, stt_provider\); not installed; to install it, as root: fwconsole apicall:speech install$#m', $out), $out);
    } finally {
        foreach (['stt_url', 'tts_provider', 'stt_provider'] as $k) {
            set_setting($i, $k, null);
        }
    }
});

test('[stack] the every-minute job restarts a crashed speech service and logs why', function (): void {
    $i = install();
    ok(healthy(), 'running before');
    $old = stack_pid();
    ok($old > 0 && posix_kill($old, 9), "SIGKILL to the stack's speechd (pid $old)");
    $deadline = microtime(true) + 10;
    while (healthy() && microtime(true) < $deadline) {
        usleep(100000);
    }
    ok(!healthy(), 'down after SIGKILL');
    $t = microtime(true);
    [$code, $out, $err] = fw($i, ['job', '--run'], stack_speech());
    $took = microtime(true) - $t;
    eq(0, $code, "$out $err");
    ok((bool) preg_match("#^apicall speech: apicall-speech: watchdog: pid $old (is gone: the service exited \(log: [^)]+\)|does not answer http://127\\.0\\.0\\.1:8765/health: .+); restarting it$#m", $out), $out);
    contains('apicall speech: apicall-speech: started in ', $out);
    contains('job apicall/outbox: done', $out);
    ok(healthy(), 'healthy again');
    ok(stack_pid() !== $old && stack_pid() > 0, 'a new process');
    contains("watchdog: pid $old", (string) file_get_contents($i['dir'] . '/log/apicall.log'), 'logged in apicall.log');
    contains("watchdog: pid $old", (string) file_get_contents(stack_dir() . '/speechd/speechd.log'), 'logged in the service log');
    printf("# watchdog restart through fwconsole job --run: %.1f s\n", $took);
    // Healthy: the job says nothing about the service.
    [$code, $out] = fw($i, ['job', '--run'], stack_speech());
    eq(0, $code, $out);
    ok(strpos($out, 'apicall speech:') === false, $out);
});

test('[stack] fwconsole stop and start (as root) stop and start the service through the module.xml hooks', function (): void {
    $i = install();
    [$code, $out] = fw($i, ['start'], stack_speech());
    eq(1, $code, 'fwconsole start needs root');
    contains('You need to be root to run this command', $out);

    $old = stack_pid();
    [$code, $out, $err] = fw_root($i, ['stop'], stack_speech());
    eq(0, $code, "$out $err");
    contains("Running FreePBX shutdown...\n\nRunning Asterisk pre from Apicall module\napicall-speech: stopped (pid $old)", $out);
    ok(!healthy(), 'stopped by the Stop hook');
    // Stopped on purpose: the watchdog leaves it down.
    [$code, $out] = fw($i, ['job', '--run'], stack_speech());
    eq(0, $code, $out);
    contains('apicall speech: apicall-speech: stopped on purpose (apicall-speech stop): left down', $out);
    ok(!healthy(), 'still down after the job');
    [$code, $out] = fw($i, ['apicall:speech', 'status'], stack_speech());
    eq(3, $code, $out);
    contains('not running (stopped on purpose)', $out);

    $t = microtime(true);
    [$code, $out, $err] = fw_root($i, ['start'], stack_speech());
    $took = microtime(true) - $t;
    eq(0, $code, "$out $err");
    ok((bool) preg_match('#^Running FreePBX startup...\napicall-speech: started in [0-9.]+s \(pid \d+, http://127\.0\.0\.1:8765, models: #', $out), $out);
    ok(healthy(), 'started by the Start hook');
    $pid = stack_pid();
    $user = posix_getpwuid((int) fileowner("/proc/$pid"))['name'] ?? '?';
    eq('asterisk', $user, 'the service runs as the asterisk user');
    printf("# fwconsole start (service start through the hook): %.1f s\n", $took);
    // Running: start is quick and leaves it alone; not in use: not started.
    [$code, $out] = fw_root($i, ['start', 'apicall'], stack_speech());
    eq([0, "Running FreePBX startup...\napicall-speech: running (pid $pid, http://127.0.0.1:8765)\n"], [$code, $out]);
    set_setting($i, 'tts_provider', 'openai');
    set_setting($i, 'stt_provider', 'openai');
    try {
        [, $out] = fw_root($i, ['start'], stack_speech());
        contains('API Call: the local speech service is not in use (tts_provider, stt_provider): not started.', $out);
    } finally {
        set_setting($i, 'tts_provider', null);
        set_setting($i, 'stt_provider', null);
    }
    eq($pid, stack_pid(), 'untouched');
});

test('[stack] apicall:providers, apicall:tts and apicall:stt print the command-line tool\'s JSON', function (): void {
    $i = install();
    $env = ['APICALL_CLI' => cli()];
    [$code, $out, $err] = fw($i, ['apicall:providers'], $env);
    eq(0, $code, "$out $err");
    $json = json_decode($out, true);
    eq(true, $json['ok'] ?? null, $out);
    eq(['local', 'espeak'], $json['tts'] ?? null, 'TTS chain: local, then espeak');
    eq(['local'], $json['stt'] ?? null);
    ok(count(array_filter($json['providers'], static fn ($p) => $p['kind'] === 'local' && $p['ok'])) === 2, $out);

    $dir = tmpdir('apicall-tts');
    chown($dir, 'asterisk');
    $wav = "$dir/callback.wav";
    [$code, $out, $err] = fw($i, ['apicall:tts', 'Please call me back tomorrow morning.', '--lang', 'en-US', '--out', $wav], $env);
    eq(0, $code, "$out $err");
    $json = json_decode($out, true);
    eq([true, $wav, 8000], [$json['ok'] ?? null, $json['file'] ?? null, $json['rate'] ?? null], $out);
    ok(strpos((string) $json['provider'], '127.0.0.1:8765') !== false, 'spoken by the local service: ' . $out);
    $head = (string) file_get_contents($wav, false, null, 0, 12);
    ok(substr($head, 0, 4) === 'RIFF' && substr($head, 8, 4) === 'WAVE' && filesize($wav) > 8000, 'a WAV file');

    [$code, $out, $err] = fw($i, ['apicall:stt', $wav, '--lang', 'en-US', '--hint', 'call me back'], $env);
    eq(0, $code, "$out $err");
    $json = json_decode($out, true);
    ok(($json['ok'] ?? null) === true && strpos((string) $json['provider'], '127.0.0.1:8765') !== false, $out);
    $words = preg_split('/\W+/', strtolower((string) $json['text']), -1, PREG_SPLIT_NO_EMPTY);
    foreach (['call', 'back', 'tomorrow', 'morning'] as $w) {
        ok(in_array($w, $words, true), "the transcript has '$w': {$json['text']}");
    }

    // The tool's own errors come through with its exit status; a missing tool is named.
    [$code, $out] = fw($i, ['apicall:stt', "$dir/none.wav", '--lang', 'en-US'], $env);
    eq(2, $code, $out);
    eq(false, json_decode($out, true)['ok'] ?? null, $out);
    [$code, $out, $err] = fw($i, ['apicall:providers'], ['APICALL_CLI' => "$dir/no-such-tool"]);
    eq(127, $code, "$out $err");
    eq('', $out);
    contains("API Call: the command-line tool $dir/no-such-tool is missing or not executable.", $err);
});
