<?php

/**
 * PHP-level test runner (no composer).
 *
 *   php tests/php/run.php [FILTER]
 *
 * Runs every tests/php/*_test.php in its own PHP process (the framework keeps global
 * state), prints one line per test (PASS/FAIL/SKIP) and ends with the line
 * "N passed, N failed, N skipped". Exit status 1 when anything failed.
 * A test file whose process dies counts as a failure.
 *
 * Tests marked "stack" need `make up` (the stack's MariaDB, $STACK/env): without it
 * they FAIL, they never pass silently.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

const MARK = '@@APICALL-TEST ';

if (($argv[1] ?? '') === '--child') {
    run_child((string) ($argv[2] ?? ''), (string) ($argv[3] ?? ''));
    exit(0);
}

exit(run_all((string) ($argv[1] ?? '')));

function run_all(string $filter): int
{
    $files = glob(__DIR__ . '/*_test.php') ?: [];
    sort($files);
    $passed = $failed = $skipped = 0;
    $started = microtime(true);
    foreach ($files as $file) {
        $cmd = [PHP_BINARY, __FILE__, '--child', $file, $filter];
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        if (!is_resource($proc)) {
            echo 'FAIL ', basename($file), ": cannot start php\n";
            $failed++;
            continue;
        }
        $out = stream_get_contents($pipes[1]);
        $err = stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($proc);
        $results = 0;
        $noise = [];
        foreach (explode("\n", (string) $out) as $line) {
            if (strpos($line, MARK) !== 0) {
                if (trim($line) !== '') {
                    $noise[] = $line;
                }
                continue;
            }
            $r = json_decode(substr($line, strlen(MARK)), true);
            if (!is_array($r)) {
                continue;
            }
            $results++;
            $label = basename($file, '.php') . ' :: ' . $r['name'];
            $ms = sprintf(' (%d ms)', (int) $r['ms']);
            if ($r['status'] === 'pass') {
                $passed++;
                echo "PASS $label$ms\n";
            } elseif ($r['status'] === 'skip') {
                $skipped++;
                echo "SKIP $label: {$r['message']}\n";
            } else {
                $failed++;
                echo "FAIL $label$ms\n";
                foreach (explode("\n", (string) $r['message']) as $l) {
                    echo "     $l\n";
                }
            }
        }
        if ($code !== 0 || ($results === 0 && $filter === '')) {
            $failed++;
            echo 'FAIL ', basename($file, '.php'), " :: test process exited with $code after $results result(s)\n";
            foreach (array_merge($noise, explode("\n", trim((string) $err))) as $l) {
                if ($l !== '') {
                    echo "     $l\n";
                }
            }
        } elseif (trim((string) $err) !== '' && getenv('APICALL_TEST_VERBOSE')) {
            echo trim((string) $err), "\n";
        }
    }
    printf("php tests: %.1f s\n", microtime(true) - $started);
    echo "$passed passed, $failed failed, $skipped skipped\n";
    return $failed > 0 ? 1 : 0;
}

function run_child(string $file, string $filter): void
{
    require_once __DIR__ . '/lib.php';
    $report = static function (string $name, string $status, string $message, float $t0): void {
        echo MARK, json_encode([
            'name' => $name,
            'status' => $status,
            'message' => $message,
            'ms' => (microtime(true) - $t0) * 1000,
        ]), "\n";
    };
    $t0 = microtime(true);
    try {
        (static function (string $__file): void {
            require $__file;
        })($file);
    } catch (\Throwable $e) {
        $report('(file setup)', 'fail', describe($e), $t0);
        run_cleanups();
        return;
    }
    foreach (Registry::$tests as [$name, $fn]) {
        if ($filter !== '' && stripos(basename($file) . ' ' . $name, $filter) === false) {
            continue;
        }
        $t0 = microtime(true);
        ob_start();
        try {
            $fn();
            $status = 'pass';
            $message = '';
        } catch (SkipTest $e) {
            $status = 'skip';
            $message = $e->getMessage();
        } catch (\Throwable $e) {
            $status = 'fail';
            $message = describe($e);
        }
        $printed = (string) ob_get_clean();
        if ($status === 'fail' && trim($printed) !== '') {
            $message .= "\noutput:\n" . $printed;
        }
        $report($name, $status, $message, $t0);
    }
    run_cleanups();
}

function run_cleanups(): void
{
    foreach (array_reverse(Registry::$cleanups) as $fn) {
        try {
            $fn();
        } catch (\Throwable $e) {
            fwrite(STDERR, 'cleanup failed: ' . $e->getMessage() . "\n");
        }
    }
}

function describe(\Throwable $e): string
{
    if ($e instanceof AssertionFailed) {
        $frame = null;
        foreach ($e->getTrace() as $t) {
            if (isset($t['file']) && substr($t['file'], -9) === '_test.php') {
                $frame = basename($t['file']) . ':' . $t['line'];
                break;
            }
        }
        return $e->getMessage() . ($frame ? " [$frame]" : '');
    }
    return get_class($e) . ': ' . $e->getMessage() . ' at ' . basename($e->getFile()) . ':' . $e->getLine();
}
