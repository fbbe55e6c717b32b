<?php

/**
 * Installs a module into the stand-in FreePBX, as "fwconsole ma install <module>" does:
 * module.xml tables, install.sql, BMO install(), install.php, assets link, enabled.
 *
 * Usage: FREEPBX_CONF=/path/freepbx.conf php install-module.php [rawname=apicall]
 * The module must already be at $AMPWEBROOT/admin/modules/<rawname> (link or copy).
 * Idempotent: running it again keeps the token and completes missing pieces.
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
    fwrite(STDERR, "install-module: cannot read $apicallConf (set FREEPBX_CONF)\n");
    exit(1);
}
require $apicallConf;
require_once __DIR__ . '/../lib/ModuleAdmin.php';

try {
    (new \FreePBX\StandIn\ModuleAdmin(\FreePBX::create(), $apicallModule))->install();
} catch (\Throwable $e) {
    fwrite(STDERR, "install-module: FAILED: " . get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
echo "install-module: $apicallModule installed\n";
