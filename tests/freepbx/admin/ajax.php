<?php

/**
 * Stand-in for FreePBX 17's admin/ajax.php (linked into $AMPWEBROOT/admin by the
 * stand-in's module install): ajax.php?module=M&command=C asks the module's
 * ajaxRequest() and answers its ajaxHandler() as JSON. See lib/Admin.php.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

$bootstrap_settings['freepbx_auth'] = false;
$apicallConf = getenv('FREEPBX_CONF') ?: ($_SERVER['FREEPBX_CONF'] ?? '/etc/freepbx.conf');
include_once $apicallConf;
require_once __DIR__ . '/../lib/Admin.php';
\FreePBX\StandIn\Admin::ajax();
