<?php

/**
 * POST /apicall/aibot.php: a call that talks with webhooks (not implemented yet).
 *
 * Same checks and authentication as index.php, then 501 not_implemented.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require_once __DIR__ . '/includes/public.php';

use Apicall\Web;

Web\start();
Web\accept_json_post();

Web\phase('bootstrap');
$restrict_mods = true;
$bootstrap_settings = Web\bootstrap_settings();
try {
    require_once Web\freepbx_conf();
} catch (\Throwable $e) {
    Web\bootstrap_failed($e);
}
$apicallConfig = Web\core_config();

Web\run(static function () use ($apicallConfig): array {
    \Apicall\check_token($apicallConfig, Web\token());
    return [501, ['error' => [
        'code' => 'not_implemented',
        'field' => null,
        'message' => 'aibot.php is not implemented yet',
    ]]];
});
