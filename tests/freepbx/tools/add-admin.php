<?php

/**
 * Creates (or updates) an administrator of the stand-in's web interface in the ampusers
 * table, as FreePBX stores it (password as sha1).
 *
 * Usage: FREEPBX_CONF=/path/freepbx.conf php add-admin.php USER PASSWORD
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (PHP_SAPI !== 'cli' || !isset($argv[2])) {
    fwrite(STDERR, "usage: add-admin.php USER PASSWORD\n");
    exit(1);
}
$bootstrap_settings = ['freepbx_auth' => false, 'skip_astman' => true];
$restrict_mods = true;
$apicallConf = getenv('FREEPBX_CONF') ?: '/etc/freepbx.conf';
if (!is_readable($apicallConf)) {
    fwrite(STDERR, "add-admin: cannot read $apicallConf (set FREEPBX_CONF)\n");
    exit(1);
}
require $apicallConf;
require_once __DIR__ . '/../lib/Admin.php';
\FreePBX\StandIn\Admin::addAdmin(\FreePBX::Database(), $argv[1], $argv[2]);
echo "add-admin: {$argv[1]} can log in\n";
