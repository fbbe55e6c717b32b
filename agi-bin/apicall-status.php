#!/usr/bin/env php
<?php

/**
 * AGI(apicall-status.php,EVENT), run by the dialplan of aibot.php calls:
 *   failed  from [apicall-aibot] exten failed (the call could not be placed: no
 *           answer, busy, congestion, ...), once per attempt;
 *   hangup  from the hangup handler [apicall-hangup] of an answered call.
 * Hands the event to the Rust core (Apicall\call_status), which sends the call's status
 * webhook exactly once per call (retries included). `fwconsole reload` copies this file
 * into ASTAGIDIR, so it finds the module through the FreePBX bootstrap.
 *
 * stdout is the AGI channel: the script prints nothing itself, and whatever PHP or the
 * FreePBX bootstrap would print is dropped (and its size logged). Errors go to PHP's
 * error log (stderr unless error_log is set).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

ini_set('display_errors', '0');
ini_set('log_errors', '1');
ob_start(static function (string $output): string {
    if ($output !== '') {
        error_log('apicall-status: dropped ' . strlen($output) . ' bytes printed to stdout (the AGI channel)');
    }
    return '';
}, 4096);

// FreePBX bootstrap, in the global scope as FreePBX requires.
$restrict_mods = true;
$bootstrap_settings = ['freepbx_auth' => false, 'skip_astman' => true, 'freepbx_error_handler' => false];
try {
    $apicallConf = getenv('FREEPBX_CONF') ?: '/etc/freepbx.conf';
    if (!is_readable($apicallConf)) {
        throw new \RuntimeException("cannot read $apicallConf");
    }
    require_once $apicallConf;
    $apicallConfig = \FreePBX::Apicall()->coreConfig();
} catch (\Throwable $e) {
    error_log('apicall-status: FreePBX bootstrap failed: ' . get_class($e) . ': ' . $e->getMessage());
    exit(1);
}

$apicallEvent = (string) ($argv[1] ?? 'hangup');
try {
    \Apicall\call_status($apicallConfig, $apicallEvent);
} catch (\Throwable $e) {
    error_log("apicall-status: $apicallEvent: " . get_class($e) . ': ' . $e->getMessage());
    exit(1);
}
exit(0);
