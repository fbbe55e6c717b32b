<?php

/**
 * Saves or restores the module's kvstore (token, secrets, settings) of the running
 * stack, so the browser test leaves the stack as it found it. Both also forget the failed
 * token attempts recorded for the stack's addresses: the test presents its old token once on
 * purpose, and earlier suites (or reruns) may have used up the per-address limit, which would
 * turn the test's valid requests into 429s.
 *
 * Usage: FREEPBX_CONF=... php state.php save|restore FILE
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (PHP_SAPI !== 'cli' || !in_array($argv[1] ?? '', ['save', 'restore'], true) || !isset($argv[2])) {
    fwrite(STDERR, "usage: state.php save|restore FILE\n");
    exit(2);
}
$bootstrap_settings = ['freepbx_auth' => false, 'skip_astman' => true, 'freepbx_error_handler' => false];
$restrict_mods = true;
require getenv('FREEPBX_CONF') ?: '/etc/freepbx.conf';
$db = \FreePBX::Database();
$table = 'kvstore_FreePBX_modules_Apicall';
$db->exec('DELETE FROM apicall_auth_failures');
if ($argv[1] === 'save') {
    $rows = $db->query("SELECT `key`, `val`, `type`, `id` FROM `$table`")->fetchAll(\PDO::FETCH_ASSOC);
    file_put_contents($argv[2], json_encode($rows));
    echo 'state: saved ', count($rows), " rows\n";
    exit(0);
}
$rows = json_decode((string) file_get_contents($argv[2]), true);
if (!is_array($rows) || $rows === []) {
    fwrite(STDERR, "state: nothing to restore in {$argv[2]}\n");
    exit(1);
}
$db->beginTransaction();
$db->exec("DELETE FROM `$table`");
$ins = $db->prepare("INSERT INTO `$table` (`key`, `val`, `type`, `id`) VALUES (?, ?, ?, ?)");
foreach ($rows as $r) {
    $ins->execute([$r['key'], $r['val'], $r['type'], $r['id']]);
}
$db->commit();
echo 'state: restored ', count($rows), " rows\n";
