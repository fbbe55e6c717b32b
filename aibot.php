<?php

/**
 * POST /apicall/aibot.php: place an interactive call (message, answer by digits or
 * voice, webhook loop, status webhook).
 *
 * Headers: token: <module token>, Content-Type: application/json.
 * Body: {"PhoneNumber": "...", "MessageText"|"MessageUrl": ..., "UserInputMethod": ..., ...}
 * (every field of the original aibot.php; validated by the extension).
 * 200 {"id": "...", "status": "queued", "PhoneNumber": "..."} or
 * {"error": {"code", "field", "message"}}.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require_once __DIR__ . '/includes/public.php';

use Apicall\Web;

Web\start();
$apicallBody = Web\accept_json_post(['check_token', 'aibot_queue']);

Web\phase('bootstrap');
require __DIR__ . '/includes/bootstrap.php'; // global scope: sets $apicallConfig (kept, or by the FreePBX bootstrap)

Web\run(static function () use ($apicallConfig, $apicallBody): array {
    \Apicall\check_token($apicallConfig, Web\token(), Web\remote_addr());
    return [200, \Apicall\aibot_queue($apicallConfig, $apicallBody, Web\idempotency_key())];
});
