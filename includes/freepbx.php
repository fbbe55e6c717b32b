<?php

/**
 * What the module's scripts need to start FreePBX: where freepbx.conf is, the
 * $bootstrap_settings they use, and what happens when the bootstrap fails.
 * Including this file only defines functions; includes/bootstrap.php does the work.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace Apicall\Boot;

final class State
{
    /** @var callable|null  runs when the bootstrap failed; it must not return */
    public static $onFailure = null;
}

/**
 * The freepbx.conf to include: $FREEPBX_CONF (process environment or Apache's SetEnv),
 * else /etc/freepbx.conf. Throws when it cannot be read.
 */
function conf_path(): string
{
    $env = getenv('FREEPBX_CONF');
    if (!is_string($env) || $env === '') {
        $env = (string) ($_SERVER['FREEPBX_CONF'] ?? '');
    }
    $path = $env !== '' ? $env : '/etc/freepbx.conf';
    if (!is_readable($path)) {
        throw new \RuntimeException("cannot read $path");
    }
    return $path;
}

/**
 * $bootstrap_settings of the module's scripts: no GUI login, no AMI connection, no
 * HTML error pages ($restrict_mods = true keeps other modules' functions out).
 */
function settings(): array
{
    return [
        'freepbx_auth' => false,
        'skip_astman' => true,
        'freepbx_error_handler' => false,
    ];
}

/** Sets what runs when the bootstrap fails (default: log and exit 1). */
function on_failure(callable $handler): void
{
    State::$onFailure = $handler;
}

/** Called by bootstrap.php when the bootstrap threw. */
function failed(\Throwable $e): never
{
    if (State::$onFailure !== null) {
        (State::$onFailure)($e);
    }
    error_log('apicall: FreePBX bootstrap failed: ' . get_class($e) . ': ' . $e->getMessage());
    exit(1);
}
