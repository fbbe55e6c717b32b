<?php

/**
 * Run by FreePBX after Apicall::install() (which creates the token and the public
 * folder). The module.xml <database> tables are created by the framework.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}

if (!function_exists('Apicall\\originate')) {
    out(_('API Call: the apicall PHP extension is not loaded; calls cannot be placed until it is enabled.'));
}
