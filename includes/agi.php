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

/**
 * Lets MariaDB close the FreePBX bootstrap's connection once it has been idle for a
 * moment. A session's process lives as long as its call but is done with PDO once the
 * configuration is read; kept open, that idle connection would count against
 * max_connections once per call in progress. Nothing in this process uses PDO again.
 */
function release_framework_connection(): void
{
    try {
        \FreePBX::Database()->exec('SET SESSION wait_timeout = 2');
    } catch (\Throwable $e) {
        error_log('apicall AGI: could not shorten the framework connection: ' . $e->getMessage());
    }
}

/**
 * Leaves $config for the next AGI processes (Apicall\agi_config_save), so they need no
 * bootstrap; done when Asterisk named its spool folder (AST_SPOOL_DIR), as it does for AGI.
 */
function keep(array $config, string $moduleDir, string $logFile): void
{
    $spool = getenv('AST_SPOOL_DIR');
    if (!is_string($spool) || $spool === '' || !function_exists('Apicall\\agi_config_save')) {
        return;
    }
    try {
        \Apicall\agi_config_save($spool, $config, $moduleDir, $logFile);
    } catch (\Throwable $e) {
        // Only the next processes' speed depends on it.
        error_log('apicall AGI: configuration not kept for the next calls: ' . $e->getMessage());
    }
}

/** Runs $command with the configuration an earlier process kept (FreePBX not loaded). */
function run_kept(array $kept, string $command): int
{
    log_to((string) $kept['log_file']);
    return run($kept['config'], $command);
}

/** Runs $command with the module's $config; returns the exit status. */
function run(array $config, string $command): int
{
    try {
        switch ($command) {
            case 'session':
                if (class_exists('FreePBX', false)) {
                    release_framework_connection();
                }
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
