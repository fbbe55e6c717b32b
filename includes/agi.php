<?php

/**
 * The work of agi-bin/apicall.php once FreePBX is up (loaded by Apicall::runAgi()):
 * sends PHP's log to $ASTLOGDIR/apicall.log and hands the channel to the extension.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace Apicall\Agi;

/** The AGI commands of the dialplan and the extension function each one runs. */
const COMMANDS = ['session', 'failed', 'hangup'];

/**
 * Sends PHP's error log (and so the extension's log lines) to $logFile. Keeps the
 * current log when the file cannot be created or written.
 */
function log_to(string $logFile): void
{
    if ((is_file($logFile) && is_writable($logFile)) || (!file_exists($logFile) && is_writable(dirname($logFile)))) {
        ini_set('error_log', $logFile);
    } else {
        error_log("apicall AGI: cannot write $logFile; logging to stderr");
    }
}

/** Runs $command with the module's $config; returns the exit status. */
function run(array $config, string $command): int
{
    try {
        switch ($command) {
            case 'session':
                \Apicall\aibot_session($config);
                return 0;
            case 'failed':
            case 'hangup':
                \Apicall\call_status($config, $command);
                return 0;
            default:
                error_log('apicall AGI: unknown command ' . json_encode($command) . ' (expected ' . implode(', ', COMMANDS) . ')');
                return 1;
        }
    } catch (\Throwable $e) {
        error_log("apicall AGI: $command: " . get_class($e) . ': ' . $e->getMessage());
        return 1;
    }
}
