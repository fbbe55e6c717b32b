<?php

/**
 * Uninstalls a module from the stand-in FreePBX, as "fwconsole ma uninstall <module>"
 * does: uninstall.php, BMO uninstall(), uninstall.sql, module.xml tables dropped,
 * assets link and module list entry removed. Idempotent.
 *
 * Usage: FREEPBX_CONF=/path/freepbx.conf php uninstall-module.php [rawname=apicall]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (PHP_SAPI !== 'cli') {
    exit(1);
}
$apicallModule = $argv[1] ?? 'apicall';
$bootstrap_settings = ['freepbx_auth' => false, 'skip_astman' => true];
$restrict_mods = true;
$apicallConf = getenv('FREEPBX_CONF') ?: '/etc/freepbx.conf';
if (!is_readable($apicallConf)) {
    fwrite(STDERR, "uninstall-module: cannot read $apicallConf (set FREEPBX_CONF)\n");
    exit(1);
}
require $apicallConf;
require_once __DIR__ . '/../lib/ModuleAdmin.php';

try {
    (new \FreePBX\StandIn\ModuleAdmin(\FreePBX::create(), $apicallModule))->uninstall();
} catch (\Throwable $e) {
    fwrite(STDERR, "uninstall-module: FAILED: " . get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
echo "uninstall-module: $apicallModule uninstalled\n";
