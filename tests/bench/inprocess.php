<?php

/**
 * Part of `make bench` (api): the extension's calls of one API request timed inside one PHP
 * process, without Apache and without Asterisk dialling what is queued. Through Apache the
 * same calls share the machine with Asterisk placing every queued call; here they show what
 * the request itself costs, call by call.
 *
 *   php -d extension=<libapicall.so> tests/bench/inprocess.php REPEATS
 *
 * Uses the stack's database (the module's token and settings) and a spool of its own, which
 * Asterisk does not read: the call files written are removed again, as are the calls' rows.
 * Prints one JSON object: {name: {"n", "p50_ms", "p90_ms", "p99_ms"}}.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require dirname(__DIR__) . '/php/lib.php';

$repeats = max(20, (int) ($argv[1] ?? 300));
\ApicallTest\bootstrap_stack();
$module = \FreePBX::Apicall();
$config = $module->coreConfig();
$spool = \ApicallTest\tmpdir('apicall-bench-spool');
mkdir("$spool/outgoing");
mkdir("$spool/tmp");
$config['spool_dir'] = $spool;
$config['max_concurrent_calls'] = '100000';
$token = $module->getToken();

/** Times $fn $repeats times (after one untimed call); milliseconds. */
function timed(int $repeats, callable $fn): array
{
    $fn();
    $ms = [];
    for ($i = 0; $i < $repeats; $i++) {
        $t = hrtime(true);
        $fn();
        $ms[] = (hrtime(true) - $t) / 1e6;
    }
    sort($ms);
    $at = static fn (float $q): float => round($ms[min(count($ms) - 1, (int) floor($q * count($ms)))], 3);
    return ['n' => $repeats, 'p50_ms' => $at(0.5), 'p90_ms' => $at(0.9), 'p99_ms' => $at(0.99)];
}

$queued = [];
$out = [];
\Apicall\remember_config($config);
$out['cached_config'] = timed($repeats, static fn () => \Apicall\cached_config());
$out['check_token'] = timed($repeats, static fn () => \Apicall\check_token($config, $token, '127.0.0.1'));
$out['originate'] = timed($repeats, static function () use ($config, &$queued): void {
    $queued[] = \Apicall\originate($config, '{"tocall":"2003"}', null)['id'];
});
$out['aibot_queue'] = timed($repeats, static function () use ($config, &$queued): void {
    $queued[] = \Apicall\aibot_queue($config, '{"PhoneNumber":"2003"}', null)['id'];
});

$pdo = \ApicallTest\stack_pdo();
$delete = $pdo->prepare('DELETE FROM apicall_calls WHERE id = ?');
foreach ($queued as $id) {
    $delete->execute([$id]);
}
\ApicallTest\rmtree($spool);
echo json_encode($out), "\n";
