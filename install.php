<?php

/**
 * Run by FreePBX after Apicall::install(), which does the work (secrets, public folder,
 * the PHP extension, the outbox job) and says what it did. The module.xml <database>
 * tables are created by the framework before.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}
