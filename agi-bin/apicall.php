#!/usr/bin/env php
<?php

/**
 * The module's one AGI script, run by its dialplan (Apicall::doDialplanHook):
 *   EAGI(apicall.php,session)  [apicall-aibot] when the callee of an aibot.php call
 *                              answers: the Rust core runs the conversation
 *                              (Apicall\aibot_session) over AGI on stdin/stdout, reads the
 *                              callee's audio on fd 3 and sets APICALL_GOTO_CONTEXT, _EXTEN
 *                              and _PRIORITY before it returns;
 *   AGI(apicall.php,failed)    [apicall-aibot] exten failed: the call could not be placed
 *                              (no answer, busy, ...), once per attempt;
 *   AGI(apicall.php,hangup)    [apicall-hangup], the hangup handler of an answered call.
 *                              failed and hangup go to Apicall\call_status, which sends the
 *                              call's status webhook exactly once per call.
 *
 * `fwconsole reload` COPIES this file into Asterisk's agi-bin, so it finds the module
 * through the FreePBX bootstrap (or the configuration an earlier run kept), not through
 * __DIR__. stdout is the AGI channel: the script prints nothing itself, and whatever PHP
 * or the bootstrap would print is dropped (its size logged). Log lines go to
 * $ASTLOGDIR/apicall.log (stderr until FreePBX is up). On any failure the dialplan
 * continues at the fallback it preset (hangup), so the callee is never left in dead air.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

ini_set('display_errors', '0');
ini_set('log_errors', '1');
ob_start(static function (string $output): string {
    if ($output !== '') {
        error_log('apicall AGI: dropped ' . strlen($output) . ' bytes printed to stdout (the AGI channel)');
    }
    return '';
}, 4096);

$apicallCommand = (string) ($argv[1] ?? '');

// The configuration an earlier AGI process of the module left under Asterisk's spool folder
// (Apicall\agi_config: at most a minute old, the module's settings unchanged) spares this
// process the FreePBX bootstrap and its database connection. The module's files are where
// that process found them.
$apicallSpool = getenv('AST_SPOOL_DIR');
if (is_string($apicallSpool) && $apicallSpool !== '' && function_exists('Apicall\\agi_config')) {
    try {
        $apicallKept = \Apicall\agi_config($apicallSpool);
    } catch (\Throwable $e) {
        $apicallKept = null;
    }
    if (is_array($apicallKept) && is_file($apicallKept['module_dir'] . '/includes/agi.php')) {
        require_once $apicallKept['module_dir'] . '/includes/agi.php';
        exit(\Apicall\Agi\run_kept($apicallKept, $apicallCommand));
    }
}

// FreePBX bootstrap, in the global scope as FreePBX requires.
$restrict_mods = true;
$bootstrap_settings = ['freepbx_auth' => false, 'skip_astman' => true, 'freepbx_error_handler' => false];
try {
    $apicallConf = getenv('FREEPBX_CONF') ?: '/etc/freepbx.conf';
    if (!is_readable($apicallConf)) {
        throw new \RuntimeException("cannot read $apicallConf");
    }
    require_once $apicallConf;
    $apicallModule = \FreePBX::Apicall();
} catch (\Throwable $e) {
    error_log('apicall AGI: FreePBX bootstrap failed: ' . get_class($e) . ': ' . $e->getMessage());
    exit(1);
}
exit($apicallModule->runAgi($apicallCommand));
