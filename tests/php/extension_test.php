<?php

/**
 * The built extension as PHP sees it (target/debug/libapicall.so, loaded with `php -n` so
 * no other ini can change what is measured):
 *   - every function, class and constant it defines is under Apicall\, and its version is
 *     module.xml's;
 *   - loading it makes no thread, runtime or socket; the first call makes them in the process
 *     that calls, and a forked child (mod_php and PHP-FPM fork their workers after loading
 *     the extension) gets its own: the child's calls on the stack's MariaDB answer right
 *     while the parent's run at the same moment, and the parent's still work afterwards.
 * [stack] tests need `make up` (MariaDB and the module's token).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

/** The built extension; fails (make up builds it, so a missing build is an error here). */
function built_so(): string
{
    $so = extension_so();
    if ($so === null) {
        fail('the extension is not built (target/debug/libapicall.so): run `make up`');
    }
    return $so;
}

/** Runs PHP code in `php -n` with only the extension loaded; returns its JSON output. */
function php_with_extension(array $args, float $timeout = 30.0): array
{
    [$code, $out, $err] = run_cmd(array_merge([PHP_BINARY, '-n', '-d', 'extension=' . built_so()], $args), getenv(), $timeout);
    eq(0, $code, "php exited with $code: $out $err");
    $json = json_decode(trim($out), true);
    ok(is_array($json), "JSON on stdout: $out $err");
    return $json;
}

test('every name the extension defines is under Apicall\\, and its version is module.xml\'s', function (): void {
    $seen = php_with_extension(['-r', '
        $e = new ReflectionExtension("apicall");
        echo json_encode([
            "functions" => array_values(array_map(fn ($f) => $f->getName(), $e->getFunctions())),
            "classes" => $e->getClassNames(),
            "constants" => array_keys($e->getConstants()),
            "ini" => array_keys($e->getINIEntries()),
            "version" => phpversion("apicall"),
            "reported" => \Apicall\version(),
        ]);']);
    // The functions the module's PHP calls: a rename would leave the names unchecked.
    foreach (['version', 'check_token', 'originate', 'aibot_queue', 'aibot_session', 'call_status', 'outbox_deliver'] as $f) {
        ok(in_array("Apicall\\$f", $seen['functions'], true), "Apicall\\$f is defined: " . export($seen['functions']));
    }
    ok(in_array('Apicall\\ApiError', $seen['classes'], true), 'Apicall\\ApiError is defined: ' . export($seen['classes']));
    foreach (['functions', 'classes', 'constants', 'ini'] as $kind) {
        foreach ($seen[$kind] as $name) {
            ok(str_starts_with($name, 'Apicall\\') || ($kind === 'ini' && str_starts_with($name, 'apicall.')), "$kind: $name is outside the Apicall\\ namespace");
        }
    }
    $xml = simplexml_load_file(repo() . '/module.xml');
    ok($xml !== false, 'module.xml parses');
    $module = (string) $xml->version;
    ok((bool) preg_match('/^\d+\.\d+\.\d+$/', $module), "module.xml version: $module");
    eq($module, $seen['version'], "phpversion('apicall')");
    eq($module, $seen['reported'], 'Apicall\\version()');
});

test('[stack] nothing is made at start-up; a forked child gets its own runtime and pool', function (): void {
    $env = stack_env();
    $token = (string) ($env['APICALL_TOKEN'] ?? '');
    ok(strlen($token) >= 32, 'the stack has a token (.stack/env APICALL_TOKEN)');
    // The configuration the entry points hand the extension, from the stack's FreePBX.
    bootstrap_stack();
    $config = \FreePBX::Apicall()->coreConfig();
    $dir = tmpdir('apicall-fork');
    file_put_contents("$dir/config.json", json_encode($config));
    // Sockets of this process (the bootstrap's PDO...) are inherited by the one started below;
    // it may have those and no other.
    $own = [];
    foreach (scandir('/proc/self/fd') ?: [] as $fd) {
        $target = (string) @readlink("/proc/self/fd/$fd");
        if (str_starts_with($target, 'socket:') || $target === 'anon_inode:[eventpoll]') {
            $own[$fd] = $target;
        }
    }
    $r = php_with_extension([__DIR__ . '/fixtures/fork_check.php', "$dir/config.json", $token, "$dir/child.json"], 60.0);

    eq(true, $r['loaded'], 'the extension is loaded');
    eq(1, $r['threads_at_start'], 'threads in /proc/self/task with the extension loaded and nothing called');
    eq([], array_diff_assoc($r['sockets_at_start'], $own), 'sockets and epoll instances of its own before the first call');
    eq(['ok', '401 unauthorized'], $r['parent_before'], 'right then wrong token, before the fork');
    eq(0, $r['child_exit'], 'the child ended by itself (no hang on an inherited runtime or connection)');
    $child = json_decode((string) @file_get_contents("$dir/child.json"), true);
    ok(is_array($child), 'the child wrote its answers');
    eq(1, $child['threads'], 'a forked child starts with one thread');
    eq(['ok / 401 unauthorized'], $child['answers'], 'every one of the child\'s 20 rounds');
    eq(['ok / 401 unauthorized'], $r['parent_after'], 'every one of the parent\'s 20 rounds, run at the same time');
    eq('ok', $r['parent_last'], 'the parent after the child has gone');
});
