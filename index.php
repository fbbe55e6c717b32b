<?php

/**
 * POST /apicall/index.php: place a call.
 *
 * Headers: token: <module token>, Content-Type: application/json.
 * Body: {"tocall": "...", "message": ..., "destination": ..., ...} (see the README).
 * 200 {"id": "...", "status": "queued", ...} or {"error": {"code", "field", "message"}}.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require_once __DIR__ . '/includes/public.php';

use Apicall\Web;

Web\start();
$apicallBody = Web\accept_json_post();

Web\phase('bootstrap');
require __DIR__ . '/includes/bootstrap.php'; // global scope: sets $apicallConfig (kept, or by the FreePBX bootstrap)

Web\run(static function () use ($apicallConfig, $apicallBody): array {
    \Apicall\check_token($apicallConfig, Web\token(), Web\remote_addr());
    return [200, \Apicall\originate($apicallConfig, $apicallBody, Web\idempotency_key())];
});
