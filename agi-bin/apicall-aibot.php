#!/usr/bin/env php
<?php

/**
 * EAGI(apicall-aibot.php), run by [apicall-aibot] when the callee of an aibot.php call
 * answers: hands the channel to the Rust core (Apicall\aibot_session), which speaks AGI
 * on stdin/stdout, reads the callee's audio on fd 3 and sets APICALL_GOTO_CONTEXT,
 * _EXTEN and _PRIORITY before it returns. `fwconsole reload` copies this file into
 * ASTAGIDIR, so it finds the module through the FreePBX bootstrap, not through __DIR__.
 *
 * stdout is the AGI channel: the script prints nothing itself, and whatever PHP or the
 * FreePBX bootstrap would print is dropped (and its size logged). Errors go to PHP's
 * error log (stderr unless error_log is set). On any failure the dialplan continues at
 * the fallback it preset (hangup), so the callee is never left in dead air.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

ini_set('display_errors', '0');
ini_set('log_errors', '1');
ob_start(static function (string $output): string {
    if ($output !== '') {
        error_log('apicall-aibot: dropped ' . strlen($output) . ' bytes printed to stdout (the AGI channel)');
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
    error_log('apicall-aibot: FreePBX bootstrap failed: ' . get_class($e) . ': ' . $e->getMessage());
    exit(1);
}

try {
    \Apicall\aibot_session($apicallConfig);
} catch (\Throwable $e) {
    error_log('apicall-aibot: ' . get_class($e) . ': ' . $e->getMessage());
    exit(1);
}
exit(0);
