<?php

/**
 * Stand-in for FreePBX 17's admin/config.php (linked into $AMPWEBROOT/admin by the
 * stand-in's module install). Like the real one it bootstraps FreePBX from
 * $FREEPBX_CONF or /etc/freepbx.conf with freepbx_auth off and handles the login itself.
 * See lib/Admin.php.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

$bootstrap_settings['freepbx_auth'] = false;
$apicallConf = getenv('FREEPBX_CONF') ?: ($_SERVER['FREEPBX_CONF'] ?? '/etc/freepbx.conf');
include_once $apicallConf;
require_once __DIR__ . '/../lib/Admin.php';
\FreePBX\StandIn\Admin::config();
