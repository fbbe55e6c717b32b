<?php

/**
 * The AGI script agi-bin/apicall.php (EAGI(apicall.php,session), AGI(apicall.php,failed),
 * AGI(apicall.php,hangup)), run as Asterisk runs it: a CLI PHP process whose stdout is
 * the AGI channel.
 *
 * With a PHP double of the extension (fixtures/fake_extension.php) it must bootstrap
 * the stack's FreePBX, hand the module's coreConfig() to the extension and print
 * NOTHING on stdout, whatever the bootstrap or the extension prints or throws. Once
 * FreePBX is up its log lines go to $ASTLOGDIR/apicall.log; before (bootstrap failures)
 * to stderr. Failures exit 1.
 * Tests marked [stack] need `make up`; [ext] tests need the built extension.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

const AGI_SCRIPT = 'apicall.php';

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

/** Runs agi-bin/apicall.php with the PHP double of the extension. */
function run_agi(array $args, array $env): array
{
    $cmd = array_merge([PHP_BINARY, '-d', 'auto_prepend_file=' . __DIR__ . '/fixtures/fake_extension.php',
        repo() . '/agi-bin/' . AGI_SCRIPT], $args);
    return run_cmd($cmd, agi_env($env));
}

/**
 * A freepbx.conf for the stack's database whose ASTLOGDIR is a scratch folder; returns
 * [conf, the apicall.log path in it].
 */
function agi_conf(array $overrides = []): array
{
    $dir = tmpdir('apicall-agi');
    mkdir("$dir/log");
    $conf = write_conf($dir, array_merge(stack_amp_conf(), ['ASTLOGDIR' => "$dir/log"], $overrides));
    return [$conf, "$dir/log/apicall.log"];
}

function log_text(string $log): string
{
    return is_file($log) ? (string) file_get_contents($log) : '';
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


// ------------------------------------------------------------------ the file

test('agi-bin holds exactly apicall.php, executable, with a php shebang, lint-clean', function (): void {
    $files = array_values(array_diff(scandir(repo() . '/agi-bin') ?: [], ['.', '..']));
    eq([AGI_SCRIPT], $files);
    $path = repo() . '/agi-bin/' . AGI_SCRIPT;
    eq(0755, fileperms($path) & 0777, 'mode');
    eq("#!/usr/bin/env php\n<?php\n", substr((string) file_get_contents($path), 0, 25), 'starts with the shebang');
    [$code, $out] = run_cmd([PHP_BINARY, '-n', '-l', $path], agi_env([]));
    eq(0, $code, "php -l: $out");
});

test('git records the AGI script as executable', function (): void {
    if (!is_dir(repo() . '/.git')) {
        skip('not a git checkout');
    }
    [$code, $out] = run_cmd(['git', 'ls-files', '-s', 'agi-bin/' . AGI_SCRIPT], agi_env([]));
    if ($code !== 0 || trim($out) === '') {
        skip('agi-bin/' . AGI_SCRIPT . ' is not committed yet');
    }
    eq('100755', substr(trim($out), 0, 6), 'git mode');
});

// ---------------------------------------------- runs with the PHP double (stack)

test('[stack] session: hands coreConfig() to aibot_session(), prints nothing', function (): void {
    require_fake_cli();
    [$conf, $apicallLog] = agi_conf();
    $log = dirname($apicallLog) . '/calls.jsonl';
    [$code, $out, $err] = run_agi(['session'], ['FREEPBX_CONF' => $conf, 'APICALL_FAKE_LOG' => $log]);
    eq(0, $code, "exit status (stderr: $err, log: " . log_text($apicallLog) . ')');
    eq('', $out, 'nothing on stdout (the AGI channel)');
    eq([['fn' => 'aibot_session', 'public_url' => '', 'config_keys' => CONFIG_KEYS]], fake_calls($log), 'one call, full $config, no public_url in the CLI');
});

test('[stack] failed and hangup go to call_status() with the event, print nothing', function (): void {
    require_fake_cli();
    [$conf, $apicallLog] = agi_conf();
    $log = dirname($apicallLog) . '/calls.jsonl';
    $env = ['FREEPBX_CONF' => $conf, 'APICALL_FAKE_LOG' => $log];
    foreach (['failed', 'hangup'] as $event) {
        [$code, $out, $err] = run_agi([$event], $env);
        eq(0, $code, "exit status for $event (stderr: $err)");
        eq('', $out, "nothing on stdout for $event");
    }
    $calls = fake_calls($log);
    eq(['failed', 'hangup'], array_column($calls, 'event'));
    eq(['call_status'], array_values(array_unique(array_column($calls, 'fn'))));
    eq(CONFIG_KEYS, $calls[0]['config_keys']);
});

test('[stack] no command or an unknown one: exit 1, logged in apicall.log, the extension not called', function (): void {
    require_fake_cli();
    [$conf, $apicallLog] = agi_conf();
    $log = dirname($apicallLog) . '/calls.jsonl';
    foreach ([[], ['bogus']] as $args) {
        [$code, $out, $err] = run_agi($args, ['FREEPBX_CONF' => $conf, 'APICALL_FAKE_LOG' => $log]);
        eq([1, ''], [$code, $out], 'args ' . export($args) . " (stderr: $err)");
    }
    contains('apicall AGI: unknown command ""', log_text($apicallLog));
    contains('apicall AGI: unknown command "bogus"', log_text($apicallLog));
    eq([], fake_calls($log));
});

test('[stack] whatever the extension prints is dropped from stdout and logged in apicall.log', function (): void {
    require_fake_cli();
    [$conf, $apicallLog] = agi_conf();
    foreach (['session', 'failed'] as $command) {
        [$code, $out, $err] = run_agi([$command], ['FREEPBX_CONF' => $conf, 'APICALL_FAKE_NOISE' => '1']);
        eq(0, $code, "$command exit status (stderr: $err)");
        eq('', $out, "$command: nothing on stdout");
    }
    eq(2, substr_count(log_text($apicallLog), 'bytes printed to stdout (the AGI channel)'), 'both runs logged what they dropped');
});

test('[stack] an exception from the extension: exit 1, logged in apicall.log, nothing on stdout', function (): void {
    require_fake_cli();
    [$conf, $apicallLog] = agi_conf();
    $env = ['FREEPBX_CONF' => $conf, 'APICALL_FAKE_THROW' => '1'];
    [$code, $out, $err] = run_agi(['session'], $env);
    eq([1, ''], [$code, $out], "session (stderr: $err)");
    [$code, $out, $err] = run_agi(['failed'], $env);
    eq([1, ''], [$code, $out], "failed (stderr: $err)");
    $text = log_text($apicallLog);
    contains('apicall AGI: session: RuntimeException: fake aibot_session failed on purpose', $text);
    contains('apicall AGI: failed: RuntimeException: fake call_status failed on purpose', $text);
    ok((bool) preg_match('/^\[\d{2}-\w{3}-\d{4} \d{2}:\d{2}:\d{2}/', $text), 'PHP log lines with their time stamp: ' . $text);
});

test('[stack] an unwritable ASTLOGDIR: the log goes to stderr instead', function (): void {
    require_fake_cli();
    [$conf] = agi_conf(['ASTLOGDIR' => '/nonexistent/apicall-log-dir']);
    [$code, $out, $err] = run_agi(['session'], ['FREEPBX_CONF' => $conf, 'APICALL_FAKE_THROW' => '1']);
    eq([1, ''], [$code, $out], "exit status and stdout (stderr: $err)");
    contains('cannot write /nonexistent/apicall-log-dir/apicall.log', $err);
    contains('fake aibot_session failed on purpose', $err);
});

test('[stack] run through the shebang, as Asterisk does, with the double from an ini scan dir', function (): void {
    require_fake_cli();
    [$conf, $apicallLog] = agi_conf();
    $dir = dirname($apicallLog);
    file_put_contents("$dir/zz-fake.ini", 'auto_prepend_file=' . __DIR__ . "/fixtures/fake_extension.php\n");
    $log = "$dir/calls.jsonl";
    $env = agi_env(['FREEPBX_CONF' => $conf, 'APICALL_FAKE_LOG' => $log, 'PHP_INI_SCAN_DIR' => ":$dir",
        'PATH' => dirname(PHP_BINARY) . ':' . (getenv('PATH') ?: '/usr/bin:/bin')]);
    [$code, $out, $err] = run_cmd([repo() . '/agi-bin/' . AGI_SCRIPT, 'failed'], $env);
    eq([0, ''], [$code, $out], "exit status and stdout (stderr: $err)");
    eq(['failed'], array_column(fake_calls($log), 'event'));
});

// ------------------------------------- the configuration kept between AGI processes

/**
 * Runs agi-bin/apicall.php failed with the real extension, as Asterisk would for a call that is
 * not one of the module's (APICALL_ID unset): the extension asks for the variable on stdout and
 * is done. Returns [exit status, stdout, stderr].
 */
function run_real_agi(array $env): array
{
    $dir = tmpdir('apicall-agi-in');
    file_put_contents("$dir/in", "agi_request: apicall.php\nagi_channel: Local/2003@from-internal-00000001;2\n\n200 result=0\n");
    $probe = run_cmd([PHP_BINARY, '-r', 'echo function_exists("Apicall\\\\call_status") ? "yes" : "no";'], agi_env([]));
    $args = trim($probe[1]) === 'yes' ? [] : ['-d', 'extension=' . extension_so()];
    return run_cmd(array_merge([PHP_BINARY], $args, [repo() . '/agi-bin/' . AGI_SCRIPT, 'failed']), agi_env($env), 30.0, null, "$dir/in");
}

test('[stack][ext] an AGI process leaves the configuration to the next ones: no FreePBX bootstrap while it is current', function (): void {
    require_extension_function('agi_config');
    [$conf, $apicallLog] = agi_conf();
    $spool = tmpdir('apicall-agi-spool');
    $kept = "$spool/apicall/agi-config.json";
    $asked = "GET VARIABLE \"APICALL_ID\"\n";    // the extension ran: it asked Asterisk for the call's id
    $gone = '/nonexistent/freepbx.conf';       // from here on, a bootstrap fails

    [$code, $out, $err] = run_real_agi(['FREEPBX_CONF' => $conf, 'AST_SPOOL_DIR' => $spool]);
    eq([0, $asked], [$code, $out], "bootstrapped run (stderr: $err)");
    ok(is_file($kept), 'the configuration was left in the spool folder');
    eq(0600, fileperms($kept) & 0777, 'readable by its owner only (database password, secrets)');
    $stored = json_decode((string) file_get_contents($kept), true);
    eq(repo(), $stored['module_dir'] ?? null, 'where the module is');
    eq($apicallLog, $stored['log_file'] ?? null, 'where the log goes');
    eq(stack_amp_conf()['AMPDBNAME'], $stored['values']['db_name'] ?? null, 'coreConfig() as built by the bootstrap');

    [$code, $out, $err] = run_real_agi(['FREEPBX_CONF' => $gone, 'AST_SPOOL_DIR' => $spool]);
    eq([0, $asked], [$code, $out], "run without FreePBX, on the kept configuration (stderr: $err)");
    [$code, , $err] = run_real_agi(['FREEPBX_CONF' => $gone, 'AST_SPOOL_DIR' => null]);
    eq(1, $code, 'without AST_SPOOL_DIR nothing kept is found: the bootstrap runs, and fails');
    contains('FreePBX bootstrap failed', $err);

    // Older than a minute: not taken.
    $stored['written'] -= 120;
    file_put_contents($kept, json_encode($stored));
    eq(1, run_real_agi(['FREEPBX_CONF' => $gone, 'AST_SPOOL_DIR' => $spool])[0], 'a configuration kept over a minute ago is not used');
    eq(0, run_real_agi(['FREEPBX_CONF' => $conf, 'AST_SPOOL_DIR' => $spool])[0], 'a bootstrapped run keeps it again');
    eq(0, run_real_agi(['FREEPBX_CONF' => $gone, 'AST_SPOOL_DIR' => $spool])[0], 'and the next one uses it');

    // Open to others: not trusted (it names the folder whose PHP the process loads).
    chmod($kept, 0640);
    clearstatcache();
    eq(1, run_real_agi(['FREEPBX_CONF' => $gone, 'AST_SPOOL_DIR' => $spool])[0], 'a kept file readable by the group is not used');
    chmod($kept, 0600);
    eq(0, run_real_agi(['FREEPBX_CONF' => $gone, 'AST_SPOOL_DIR' => $spool])[0], 'closed again, it is used');

    // A setting saved anywhere changes the module's kvstore rows: bootstrap again.
    $pdo = stack_pdo();
    cleanup(function () use ($pdo): void {
        $pdo->exec("DELETE FROM `kvstore_FreePBX_modules_Apicall` WHERE `key` = 'test_agi_kept_probe' AND `id` = 'noid'");
    });
    $pdo->exec("INSERT INTO `kvstore_FreePBX_modules_Apicall` (`key`, `val`, `type`, `id`) VALUES ('test_agi_kept_probe', '1', NULL, 'noid')");
    eq(1, run_real_agi(['FREEPBX_CONF' => $gone, 'AST_SPOOL_DIR' => $spool])[0], 'after a kvstore change the kept configuration is not used');
});

// ------------------------------------------------------ bootstrap failures

test('a missing freepbx.conf or a dead database: exit 1, logged on stderr, nothing on stdout', function (): void {
    require_fake_cli();
    $dir = tmpdir('apicall-agi-conf');
    $dead = write_conf($dir, [
        'AMPDBUSER' => 'nobody', 'AMPDBPASS' => 'x', 'AMPDBHOST' => '127.0.0.1',
        'AMPDBPORT' => (string) free_port(), 'AMPDBNAME' => 'asterisk', 'AMPWEBROOT' => $dir,
    ]);
    foreach (['/nonexistent/freepbx.conf', $dead] as $conf) {
        foreach (['session', 'hangup'] as $command) {
            [$code, $out, $err] = run_agi([$command], ['FREEPBX_CONF' => $conf]);
            eq([1, ''], [$code, $out], "$command with $conf (stderr: $err)");
            contains('FreePBX bootstrap failed', $err, "$command logs the cause");
        }
    }
});

test('a bootstrap that prints and exits leaves stdout empty', function (): void {
    require_fake_cli();
    $dir = tmpdir('apicall-agi-conf');
    $conf = "$dir/noisy.conf";
    file_put_contents($conf, "<?php\necho '<h1>FATAL ERROR</h1>';\nexit(1);\n");
    [$code, $out, $err] = run_agi(['session'], ['FREEPBX_CONF' => $conf]);
    eq([1, ''], [$code, $out], "noisy exit (stderr: $err)");
    $conf = "$dir/warns.conf";
    file_put_contents($conf, "<?php\ntrigger_error('bootstrap warning', E_USER_WARNING);\nthrow new \\Exception('bootstrap exploded');\n");
    [$code, $out, $err] = run_agi(['session'], ['FREEPBX_CONF' => $conf]);
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
