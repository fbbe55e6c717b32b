<?php

/**
 * The FreePBX bootstrap of the public entry points. FreePBX must be bootstrapped in
 * the global scope, so `require` this file from the TOP LEVEL of a script, never from
 * inside a function. Afterwards $apicallConfig holds the module's configuration for the
 * extension (Apicall::coreConfig()). When the bootstrap or the module fails to load, the
 * handler set with Apicall\Boot\on_failure() runs instead (default: log and exit 1).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require_once __DIR__ . '/freepbx.php';

$restrict_mods = true;
$bootstrap_settings = \Apicall\Boot\settings();
try {
    require_once \Apicall\Boot\conf_path();
    $apicallConfig = \FreePBX::Apicall()->coreConfig();
} catch (\Throwable $e) {
    \Apicall\Boot\failed($e);
}
