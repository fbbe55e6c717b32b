<?php

/**
 * The AGI scripts of agi-bin/ (apicall-aibot.php for EAGI, apicall-status.php for AGI),
 * run as Asterisk runs them: a CLI PHP process whose stdout is the AGI channel.
 *
 * With a PHP double of the extension (fixtures/fake_extension.php) they must bootstrap
 * the stack's FreePBX, hand the module's coreConfig() to the extension and print
 * NOTHING on stdout, whatever the bootstrap or the extension prints or throws; errors go
 * to stderr (PHP's error log) and the exit status is 1.
 * Tests marked [stack] need `make up`; [ext] tests need the built extension.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

const AGI_SCRIPTS = ['apicall-aibot.php', 'apicall-status.php'];

/** Environment of a script run: no stack ini dir (the real extension stays out) plus $extra. */
function agi_env(array $extra): array
{
    $env = getenv();
    unset($env['PHP_INI_SCAN_DIR'], $env['APICALL_FAKE_NOISE'], $env['APICALL_FAKE_THROW']);
    foreach ($extra as $k => $v) {
        if ($v === null) {
            unset($env[$k]);
        } else {
            $env[$k] = $v;
        }
    }
    return $env;
}

/**
 * Runs $cmd with stdin at EOF (as after Asterisk's AGI environment) and returns
 * [exit status, stdout, stderr].
 *
 * @param string[] $cmd
 */
function run_cmd(array $cmd, array $env, float $timeout = 30.0): array
{
    $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, repo(), $env);
    if (!is_resource($p)) {
        fail('cannot start ' . implode(' ', $cmd));
    }
    stream_set_blocking($pipes[1], false);
    stream_set_blocking($pipes[2], false);
    $out = $err = '';
    $deadline = microtime(true) + $timeout;
    while (true) {
        $read = [$pipes[1], $pipes[2]];
        $w = $e = null;
        if (@stream_select($read, $w, $e, 0, 200000) === false) {
            break;
        }
        foreach ($read as $r) {
            $chunk = (string) fread($r, 65536);
            if ($r === $pipes[1]) {
                $out .= $chunk;
            } else {
                $err .= $chunk;
            }
        }
        if (feof($pipes[1]) && feof($pipes[2])) {
            break;
        }
        if (microtime(true) > $deadline) {
            proc_terminate($p, 9);
            fail('timed out: ' . implode(' ', $cmd) . "\nstdout: $out\nstderr: $err");
        }
    }
    fclose($pipes[1]);
    fclose($pipes[2]);
    $code = proc_close($p);
    return [$code, $out, $err];
}

/** Runs agi-bin/$script with the PHP double of the extension. */
function run_agi(string $script, array $args, array $env): array
{
    $cmd = array_merge([PHP_BINARY, '-d', 'auto_prepend_file=' . __DIR__ . '/fixtures/fake_extension.php',
        repo() . "/agi-bin/$script"], $args);
    return run_cmd($cmd, agi_env($env));
}

/** The JSON lines the fake extension logged. */
function fake_calls(string $log): array
{
    $calls = [];
    foreach (file($log, FILE_IGNORE_NEW_LINES) ?: [] as $line) {
        $calls[] = json_decode($line, true);
    }
    return $calls;
}

function require_fake_cli(): void
{
    $probe = run_cmd([PHP_BINARY, '-r', 'echo function_exists("Apicall\\\\originate") ? "yes" : "no";'], agi_env([]));
    if (trim($probe[1]) === 'yes') {
        skip('the apicall extension is enabled globally for the CLI; the PHP double cannot be loaded');
    }
}

const CONFIG_KEYS = ['db_host', 'db_port', 'db_user', 'db_pass', 'db_name', 'db_socket', 'spool_dir', 'tts_cache_dir',
    'dial_context', 'default_language', 'default_callerid', 'cdr_db_name', 'public_url', 'url_secret', 'answers_dir',
    'answer_url_lifetime', 'answer_retention_days', 'webhook_timeout', 'webhook_connect_timeout', 'stt_provider',
    'stt_url', 'stt_model'];

// ------------------------------------------------------------------ the files

test('agi-bin holds exactly the two scripts, executable, with a php shebang, lint-clean', function (): void {
    $files = array_values(array_diff(scandir(repo() . '/agi-bin') ?: [], ['.', '..']));
    sort($files);
    eq(AGI_SCRIPTS, $files);
    foreach (AGI_SCRIPTS as $script) {
        $path = repo() . "/agi-bin/$script";
        eq(0755, fileperms($path) & 0777, "$script mode");
        eq("#!/usr/bin/env php\n<?php\n", substr((string) file_get_contents($path), 0, 25), "$script starts with the shebang");
        [$code, $out] = run_cmd([PHP_BINARY, '-n', '-l', $path], agi_env([]));
        eq(0, $code, "php -l $script: $out");
    }
});

test('git records the AGI scripts as executable', function (): void {
    if (!is_dir(repo() . '/.git')) {
        skip('not a git checkout');
    }
    foreach (AGI_SCRIPTS as $script) {
        [$code, $out] = run_cmd(['git', 'ls-files', '-s', "agi-bin/$script"], agi_env([]));
        if ($code !== 0 || trim($out) === '') {
            skip("agi-bin/$script is not committed yet");
        }
        eq('100755', substr(trim($out), 0, 6), "git mode of $script");
    }
});

// ---------------------------------------------- runs with the PHP double (stack)

test('[stack] apicall-aibot.php: hands coreConfig() to aibot_session(), prints nothing', function (): void {
    require_fake_cli();
    $log = tmpdir('apicall-agi') . '/calls.jsonl';
    [$code, $out, $err] = run_agi('apicall-aibot.php', [], ['FREEPBX_CONF' => stack_conf(), 'APICALL_FAKE_LOG' => $log]);
    eq(0, $code, "exit status (stderr: $err)");
    eq('', $out, 'nothing on stdout (the AGI channel)');
    eq([['fn' => 'aibot_session', 'public_url' => '', 'config_keys' => CONFIG_KEYS]], fake_calls($log), 'one call, full $config, no public_url in the CLI');
});

test('[stack] apicall-status.php: passes the event (default hangup) to call_status(), prints nothing', function (): void {
    require_fake_cli();
    $log = tmpdir('apicall-agi') . '/calls.jsonl';
    $env = ['FREEPBX_CONF' => stack_conf(), 'APICALL_FAKE_LOG' => $log];
    foreach ([[['failed'], 'failed'], [['hangup'], 'hangup'], [[], 'hangup']] as [$args, $event]) {
        [$code, $out, $err] = run_agi('apicall-status.php', $args, $env);
        eq(0, $code, "exit status for $event (stderr: $err)");
        eq('', $out, "nothing on stdout for $event");
    }
    $calls = fake_calls($log);
    eq(['failed', 'hangup', 'hangup'], array_column($calls, 'event'));
    eq(['call_status'], array_values(array_unique(array_column($calls, 'fn'))));
    eq(CONFIG_KEYS, $calls[0]['config_keys']);
});

test('[stack] whatever the extension prints is dropped from stdout and logged', function (): void {
    require_fake_cli();
    $env = ['FREEPBX_CONF' => stack_conf(), 'APICALL_FAKE_NOISE' => '1'];
    foreach ([['apicall-aibot.php', []], ['apicall-status.php', ['failed']]] as [$script, $args]) {
        [$code, $out, $err] = run_agi($script, $args, $env);
        eq(0, $code, "$script exit status (stderr: $err)");
        eq('', $out, "$script: nothing on stdout");
        contains('bytes printed to stdout', $err, "$script logs what it dropped");
    }
});

test('[stack] an exception from the extension: exit 1, logged, nothing on stdout', function (): void {
    require_fake_cli();
    $env = ['FREEPBX_CONF' => stack_conf(), 'APICALL_FAKE_THROW' => '1'];
    [$code, $out, $err] = run_agi('apicall-aibot.php', [], $env);
    eq([1, ''], [$code, $out], "aibot (stderr: $err)");
    contains('apicall-aibot: RuntimeException: fake aibot_session failed on purpose', $err);
    [$code, $out, $err] = run_agi('apicall-status.php', ['failed'], $env);
    eq([1, ''], [$code, $out], "status (stderr: $err)");
    contains('apicall-status: failed: RuntimeException: fake call_status failed on purpose', $err);
});

test('[stack] run through the shebang, as Asterisk does, with the double from an ini scan dir', function (): void {
    require_fake_cli();
    $dir = tmpdir('apicall-agi-ini');
    file_put_contents("$dir/zz-fake.ini", 'auto_prepend_file=' . __DIR__ . "/fixtures/fake_extension.php\n");
    $log = "$dir/calls.jsonl";
    $env = agi_env(['FREEPBX_CONF' => stack_conf(), 'APICALL_FAKE_LOG' => $log, 'PHP_INI_SCAN_DIR' => ":$dir",
        'PATH' => dirname(PHP_BINARY) . ':' . (getenv('PATH') ?: '/usr/bin:/bin')]);
    [$code, $out, $err] = run_cmd([repo() . '/agi-bin/apicall-status.php', 'failed'], $env);
    eq([0, ''], [$code, $out], "exit status and stdout (stderr: $err)");
    eq(['failed'], array_column(fake_calls($log), 'event'));
});

// ------------------------------------------------------ bootstrap failures

test('a missing freepbx.conf or a dead database: exit 1, logged, nothing on stdout', function (): void {
    require_fake_cli();
    $dir = tmpdir('apicall-agi-conf');
    $dead = write_conf($dir, [
        'AMPDBUSER' => 'nobody', 'AMPDBPASS' => 'x', 'AMPDBHOST' => '127.0.0.1',
        'AMPDBPORT' => (string) free_port(), 'AMPDBNAME' => 'asterisk', 'AMPWEBROOT' => $dir,
    ]);
    foreach (['/nonexistent/freepbx.conf', $dead] as $conf) {
        foreach (AGI_SCRIPTS as $script) {
            [$code, $out, $err] = run_agi($script, [], ['FREEPBX_CONF' => $conf]);
            eq([1, ''], [$code, $out], "$script with $conf (stderr: $err)");
            contains('FreePBX bootstrap failed', $err, "$script logs the cause");
        }
    }
});

test('a bootstrap that prints and exits leaves stdout empty', function (): void {
    require_fake_cli();
    $dir = tmpdir('apicall-agi-conf');
    $conf = "$dir/noisy.conf";
    file_put_contents($conf, "<?php\necho '<h1>FATAL ERROR</h1>';\nexit(1);\n");
    foreach (AGI_SCRIPTS as $script) {
        [$code, $out, $err] = run_agi($script, [], ['FREEPBX_CONF' => $conf]);
        eq([1, ''], [$code, $out], "$script (stderr: $err)");
    }
    $conf = "$dir/warns.conf";
    file_put_contents($conf, "<?php\ntrigger_error('bootstrap warning', E_USER_WARNING);\nthrow new \\Exception('bootstrap exploded');\n");
    [$code, $out, $err] = run_agi('apicall-aibot.php', [], ['FREEPBX_CONF' => $conf]);
    eq([1, ''], [$code, $out], "warning + exception (stderr: $err)");
    contains('bootstrap warning', $err, 'the warning goes to the error log, not stdout');
    contains('bootstrap exploded', $err);
});

// ------------------------------------------------------- the real extension

test('[stack][ext] the CLI PHP Asterisk runs (stack env) has aibot_session and call_status', function (): void {
    require_extension_function('aibot_session');
    require_extension_function('call_status');
    $env = stack_env();
    $probe = run_cmd(
        [PHP_BINARY, '-r', 'echo function_exists("Apicall\\\\aibot_session") && function_exists("Apicall\\\\call_status") ? "yes" : "no";'],
        agi_env(['PHP_INI_SCAN_DIR' => $env['PHP_INI_SCAN_DIR'] ?? ''])
    );
    eq('yes', trim($probe[1]), 'extension loaded through PHP_INI_SCAN_DIR: ' . $probe[2]);
});
