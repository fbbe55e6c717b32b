<?php

/**
 * The configuration of the public entry points: $apicallConfig, the module's configuration
 * for the extension (Apicall::coreConfig()). An Apache worker keeps it from its first request
 * (Apicall\cached_config(): reused while the module's kvstore rows are unchanged, at most a
 * minute), so most requests skip the FreePBX bootstrap, the largest part of a request's time.
 * Otherwise FreePBX is bootstrapped, which must happen in the global scope: `require` this
 * file from the TOP LEVEL of a script, never from inside a function. When the bootstrap or
 * the module fails to load, the handler set with Apicall\Boot\on_failure() runs instead
 * (default: log and exit 1).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require_once __DIR__ . '/freepbx.php';

$apicallConfig = function_exists('Apicall\\cached_config') ? \Apicall\cached_config() : null;
if ($apicallConfig === null) {
    $restrict_mods = true;
    $bootstrap_settings = \Apicall\Boot\settings();
    try {
        require_once \Apicall\Boot\conf_path();
        $apicallConfig = \FreePBX::Apicall()->coreConfig();
    } catch (\Throwable $e) {
        \Apicall\Boot\failed($e);
    }
    if (function_exists('Apicall\\remember_config')) {
        try {
            \Apicall\remember_config($apicallConfig);
        } catch (\Throwable $e) {
            // Only the next request's speed depends on it.
            error_log('apicall: configuration not kept: ' . $e->getMessage());
        }
    }
}
