<?php

/**
 * "fwconsole reload" of the stand-in FreePBX: runs the dialplan hooks of the active
 * modules and writes $ASTETCDIR/extensions_additional.conf the way FreePBX formats
 * it, and copies module agi-bin files to $ASTAGIDIR.
 *
 * Usage: FREEPBX_CONF=/path/freepbx.conf php reload.php [--apply]
 *   --apply  also tell the running Asterisk "dialplan reload" over AMI (fails if it cannot)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (PHP_SAPI !== 'cli') {
    exit(1);
}
$apicallApply = in_array('--apply', array_slice($argv, 1), true);
$bootstrap_settings = ['freepbx_auth' => false, 'skip_astman' => true];
$restrict_mods = true;
$apicallConf = getenv('FREEPBX_CONF') ?: '/etc/freepbx.conf';
if (!is_readable($apicallConf)) {
    fwrite(STDERR, "reload: cannot read $apicallConf (set FREEPBX_CONF)\n");
    exit(1);
}
require $apicallConf;
require_once __DIR__ . '/../lib/ModuleAdmin.php';

try {
    echo "reload: generating dialplan\n";
    \FreePBX\StandIn\ModuleAdmin::reload(\FreePBX::create());
    if ($apicallApply) {
        \FreePBX\StandIn\ModuleAdmin::amiCommand($amp_conf, 'dialplan reload');
        echo "reload: Asterisk dialplan reloaded\n";
    }
} catch (\Throwable $e) {
    fwrite(STDERR, "reload: FAILED: " . get_class($e) . ': ' . $e->getMessage() . "\n");
    exit(1);
}
echo "reload: done\n";
