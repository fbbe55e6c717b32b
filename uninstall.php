<?php

/**
 * Run by FreePBX before Apicall::uninstall(), which removes what install() made (public
 * folder, kvstore, outbox job, the PHP extension when run as root, the speech cache).
 * The module.xml <database> tables are dropped by the framework afterwards.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}
