<?php

/**
 * Run by FreePBX before Apicall::uninstall() (which removes the public folder and
 * the token). The module.xml <database> tables are dropped by the framework.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}
