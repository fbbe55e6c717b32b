<?php

/**
 * The module's fwconsole commands run the way FreePBX 17 runs them: the stand-in
 * fwconsole (tests/freepbx/fwconsole) reads the module.xml <console> of the active
 * modules and loads Console/<Class>.class.php into a Symfony Console application, as
 * the asterisk user, on a scratch install (own web root and database) of the module on
 * the stack. Each command runs under Debian's Symfony Console when it is installed and
 * under the stand-in's own Console classes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

const FWCONSOLE = __DIR__ . '/../freepbx/fwconsole';

/** The Symfony Console implementations to run the commands under. */
function consoles(): array
{
    $out = ['stand-in' => ['APICALL_STANDIN_CONSOLE' => '1']];
    if (is_file('/usr/share/php/Symfony/Component/Console/autoload.php')) {
        $out['symfony'] = ['APICALL_STANDIN_CONSOLE' => '0'];
    }
    return $out;
}

/** The scratch install shared by this file's tests (installed on first use). */
function install(): array
{
    static $install = null;
    if ($install === null) {
        $install = scratch_install();
        [$code, $out, $err] = fw($install, ['ma', 'install', 'apicall']);
        eq(0, $code, "fwconsole ma install apicall: $out $err");
        contains('Module apicall successfully installed', $out);
        contains('API Call: PHP extension 17.0.0 loaded.', $out, 'install reports the extension');
    }
    return $install;
}

/** fwconsole ARGS as the asterisk user on the scratch install. */
function fw(array $install, array $args, array $env = []): array
{
    return run_as_asterisk(array_merge([PHP_BINARY, realpath(FWCONSOLE)], $args), ['FREEPBX_CONF' => $install['conf']] + $env);
}

function scratch_token(array $install): string
{
    $pdo = stack_pdo();
    return (string) $pdo->query("SELECT `val` FROM `{$install['db']}`.`kvstore_FreePBX_modules_Apicall` WHERE `key` = 'token' AND `id` = 'noid'")->fetchColumn();
}

test('[stack] fwconsole lists the module\'s commands from its module.xml', function (): void {
    $i = install();
    foreach (consoles() as $name => $env) {
        [$code, $out, $err] = fw($i, ['list'], $env);
        eq(0, $code, "$name: $err");
        foreach (['apicall:token', 'apicall:call', 'apicall:status', 'apicall:enable'] as $cmd) {
            contains($cmd, $out, "$name lists $cmd");
        }
        [$code, , $err] = fw($i, ['apicall:nope'], $env);
        eq(1, $code, "$name: unknown command");
        contains('"apicall:nope" is not defined', $err);
    }
});

test('[stack] apicall:token prints the token; --regenerate replaces it at once', function (): void {
    $i = install();
    foreach (consoles() as $name => $env) {
        $stored = scratch_token($i);
        ok(preg_match('/^[0-9a-f]{64}$/D', $stored) === 1, 'installed token');
        [$code, $out, $err] = fw($i, ['apicall:token'], $env);
        eq([0, "$stored\n"], [$code, $out], "$name: only the token on stdout ($err)");
        [$code, $out, $err] = fw($i, ['apicall:token', '--regenerate'], $env);
        eq(0, $code, "$name: $err");
        $new = trim($out);
        ok(preg_match('/^[0-9a-f]{64}$/D', $new) === 1 && $new !== $stored, "$name: a new token");
        eq($new, scratch_token($i), "$name: stored");
        contains('the old one no longer works', $err, "$name: said on stderr");
        [$code, , $err] = fw($i, ['apicall:token', '--bogus'], $env);
        eq(1, $code, "$name: unknown option");
        contains('"--bogus" option does not exist', $err);
    }
});

test('[stack] apicall:status: every check OK on a working install, exit 0', function (): void {
    $i = install();
    foreach (consoles() as $name => $env) {
        [$code, $out, $err] = fw($i, ['apicall:status'], $env);
        eq(0, $code, "$name: $out $err");
        foreach (['PHP extension', 'Asterisk', 'Database', 'Public folder', 'Token', 'Speech service', 'Provider local'] as $check) {
            ok((bool) preg_match('/^OK +' . preg_quote($check, '/') . '/m', $out), "$name: $check OK in\n$out");
        }
        contains('apicall 17.0.0 loaded', $out);
        contains('logged in as', $out);
        contains('0 failed', $out);
        ok(strpos($out, '<info>') === false, 'style tags are not printed');
        [$code, $out] = fw($i, ['apicall:status', '--json'], $env);
        $json = json_decode($out, true);
        eq(0, $code);
        eq(true, $json['ok'] ?? null, "$name --json: $out");
    }
});

test('[stack] apicall:status: a failing check says why and exits 1', function (): void {
    $i = install();
    $broken = write_conf($i['dir'], array_merge(stack_amp_conf(), [
        'AMPDBNAME' => $i['db'], 'AMPWEBROOT' => $i['webroot'], 'AMPMGRPASS' => 'not-the-secret',
        'ASTVARLIBDIR' => $i['dir'] . '/lib', 'ASTLOGDIR' => $i['dir'] . '/log',
    ]));
    chmod($broken, 0644);
    [$code, $out] = run_as_asterisk([PHP_BINARY, realpath(FWCONSOLE), 'apicall:status'], ['FREEPBX_CONF' => $broken]);
    eq(1, $code, $out);
    ok((bool) preg_match('/^FAIL +Asterisk +AMI at 127\.0\.0\.1:\d+: login as \S+ failed: Authentication failed/m', $out), $out);
    // Without the extension in the CLI's PHP: the reason and the fix.
    [$code, $out] = fw($i, ['apicall:status'], ['PHP_INI_SCAN_DIR' => PHP_CONFIG_FILE_SCAN_DIR]);
    eq(1, $code, $out);
    ok((bool) preg_match('/^FAIL +PHP extension +not loaded: /m', $out), $out);
    contains('fix: ', $out);
});

test('[stack] apicall:call places a real call: 2001 answers and records the message', function (): void {
    $i = install();
    $phones = stack_env()['PHONES_DIR'];
    // The scratch install's own prompt cache: the message is the one file the call adds there.
    $tts = $i['dir'] . '/lib/sounds/apicall/tts';
    $before = glob("$tts/*.wav") ?: [];
    [$code, $out, $err] = fw($i, ['apicall:call', '2001', '--message', 'This is a test call from the console.', '--language', 'en']);
    eq(0, $code, "$out $err");
    ok((bool) preg_match('/^Call ([0-9a-f]{32}) to 2001: queued$/m', $out, $m), $out);
    $made = array_values(array_diff(glob("$tts/*.wav") ?: [], $before));
    eq(1, count($made), "the message's prompt in $tts");
    [$rate, $samples] = read_wav($made[0]);
    $expected = count($samples) / $rate;
    ok($expected > 1.5, "the message lasts $expected s");
    // 2001 records silence too, so the file's size says nothing: once the call has ended (the
    // recording is closed), what it heard must be voiced audio as long as the message.
    $wav = "$phones/2001-{$m[1]}.wav";
    $deadline = microtime(true) + 45;
    while (microtime(true) < $deadline && !wav_complete($wav)) {
        usleep(250000);
    }
    ok(wav_complete($wav), "the phone recorded the call and hung up ($wav)");
    [$span, $voiced] = active_span(...read_wav($wav));
    ok(abs($span - $expected) < 0.8, "the phone heard voiced audio for $span s, the message lasts $expected s");
    ok($voiced > 0.5 * $expected, "voiced frames: $voiced s of the message's $expected s");
    [$code, , $err] = fw($i, ['apicall:call', '12a']);
    eq(1, $code);
    contains('Call not placed: invalid_field (tocall)', $err);
    [$code, , $err] = fw($i, ['apicall:call']);
    eq(1, $code);
    contains('Not enough arguments (missing: "number")', $err);
});

test('[stack] apicall:enable without a shipped extension or root says so, exit 1', function (): void {
    $i = install();
    [$code, $out, $err] = fw($i, ['apicall:enable']);
    eq(1, $code);
    contains('ships no PHP extension', $out . $err);
});

test('[stack] apicall:outbox and the FreePBX job deliver the outbox', function (): void {
    $i = install();
    [$code, $out, $err] = fw($i, ['apicall:outbox', '--seconds', '5']);
    eq(0, $code, "$out $err");
    ok((bool) preg_match('/^Outbox: (\w+ \d+(, )?)+$/m', $out), $out);
    [$code, , $err] = fw($i, ['apicall:outbox', '--seconds', '0']);
    eq(2, $code, $err);
    [$code, $out] = fw($i, ['job', '--list']);
    eq(0, $code);
    ok((bool) preg_match('/^\d+ apicall outbox \* \* \* \* \* FreePBX\\\\modules\\\\Apicall\\\\Job enabled$/m', $out), "install registered the job:\n$out");
    [$code, $out, $err] = fw($i, ['job', '--run']);
    eq(0, $code, "$out $err");
    contains('apicall outbox: {', $out, 'Job.php ran through the module namespace autoloader');
    contains('job apicall/outbox: done', $out);
});

test('[stack] the every-minute job deletes answers past the retention period, with no call', function (): void {
    $i = install();
    $answers = rtrim(stack_amp_conf()['ASTSPOOLDIR'], '/') . '/apicall/answers';
    ok(is_dir($answers), "the answers folder exists ($answers)");
    // Names no call uses; 8 days is past the default 7, 6 days is not.
    $stale = $answers . '/' . str_repeat('e', 32) . '-1.mp3';
    $kept = $answers . '/' . str_repeat('f', 32) . '-1.mp3';
    foreach ([$stale => 8, $kept => 6] as $file => $days) {
        file_put_contents($file, 'old');
        touch($file, time() - $days * 86400);
    }
    try {
        [$code, $out, $err] = fw($i, ['job', '--run']);
        eq(0, $code, "$out $err");
        clearstatcache();
        ok(!file_exists($stale), 'the 8-day-old answer is gone');
        ok(file_exists($kept), 'the 6-day-old answer stays');
        ok((bool) preg_match('/^apicall answers: deleted [1-9]\d* past answer_retention_days$/m', $out), $out);
        // Nothing old left: the job says nothing about answers.
        [$code, $out] = fw($i, ['job', '--run']);
        eq(0, $code, $out);
        ok(strpos($out, 'apicall answers:') === false, $out);
    } finally {
        @unlink($stale);
        @unlink($kept);
    }
});

test('[stack] fwconsole ma uninstall apicall removes the tables, the public folder and the commands', function (): void {
    $i = install();
    [$code, $out, $err] = fw($i, ['ma', 'uninstall', 'apicall']);
    eq(0, $code, "$out $err");
    $pdo = stack_pdo();
    $left = $pdo->query("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = " . $pdo->quote($i['db']) . " AND TABLE_NAME LIKE 'apicall%'")->fetchAll(\PDO::FETCH_COLUMN);
    eq([], $left, 'module tables dropped');
    eq(0, (int) $pdo->query("SELECT COUNT(*) FROM `{$i['db']}`.`cron_jobs` WHERE `modulename` = 'apicall'")->fetchColumn(), 'job removed');
    ok(!file_exists($i['webroot'] . '/apicall'), 'public folder removed');
    [$code, , $err] = fw($i, ['apicall:token']);
    eq(1, $code, 'the commands are gone with the module');
});
