<?php

/**
 * config.php?display=apicall
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}

echo \FreePBX::Apicall()->showPage();
