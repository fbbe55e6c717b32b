<?php

/**
 * GET /apicall/answer.php?f=<file>&e=<unix expiry>&s=<signature>: the mp3 of a
 * recorded answer (the UserAnswerMp3Url of the webhook).
 *
 * No token: the signature (hex HMAC-SHA256 with the module's url_secret over
 * f + "\n" + e), checked by the extension together with the expiry, is the credential.
 * 200 audio/mpeg (Content-Length, Cache-Control: private) or
 * {"error": {"code", "field", "message"}}:
 *   403 forbidden   missing or wrong signature, or expired
 *   404 not_found   no such answer (deleted after the retention period)
 *   405 (Allow: GET), 503, 500 as for the other entry points.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require_once __DIR__ . '/includes/public.php';

use Apicall\Web;

Web\start();
Web\accept_get(['answer_audio']);

Web\phase('bootstrap');
require __DIR__ . '/includes/bootstrap.php'; // global scope: sets $apicallConfig (kept, or by the FreePBX bootstrap)

Web\run(static function () use ($apicallConfig): ?array {
    // Anything but a single value counts as missing: the extension answers 403.
    $param = static fn (string $name): string => is_string($_GET[$name] ?? null) ? $_GET[$name] : '';
    $path = \Apicall\answer_audio($apicallConfig, $param('f'), $param('e'), $param('s'));
    Web\send_file($path, 'audio/mpeg');
    return null;
});
