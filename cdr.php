<?php

/**
 * GET /apicall/cdr.php?uniqueid=<uniqueid> or ?linkedid=<linkedid>: the CDR rows of a
 * call (the CallDetailUrl of the status webhook).
 *
 * Header: token: <module token> (the query string never carries it).
 * 200 {"rows": [{"calldate": ..., "uniqueid": ..., ...}, ...]} (empty list when the call
 * has no CDR yet) or {"error": {"code", "field", "message"}}:
 *   400 missing_field (field uniqueid)   neither uniqueid nor linkedid given
 *   400 invalid_field                    not an Asterisk uniqueid (digits.digits)
 *   401 unauthorized, 405 (Allow: GET), 503, 500 as for the other entry points.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

require_once __DIR__ . '/includes/public.php';

use Apicall\Web;

Web\start();
Web\accept_get(['check_token', 'cdr_rows']);

Web\phase('bootstrap');
require __DIR__ . '/includes/bootstrap.php'; // global scope: sets $apicallConfig (kept, or by the FreePBX bootstrap)

Web\run(static function () use ($apicallConfig): array {
    \Apicall\check_token($apicallConfig, Web\token(), Web\remote_addr());
    $ids = ['uniqueid' => Web\query('uniqueid'), 'linkedid' => Web\query('linkedid')];
    if ($ids['uniqueid'] === null && $ids['linkedid'] === null) {
        return [400, ['error' => [
            'code' => 'missing_field',
            'field' => 'uniqueid',
            'message' => 'Give the uniqueid or the linkedid of the call',
        ]]];
    }
    foreach ($ids as $name => $id) {
        // Asterisk's uniqueid/linkedid format: <epoch seconds>.<sequence>.
        if ($id !== null && (strlen($id) > 64 || !preg_match('/^[0-9]+\.[0-9]+$/D', $id))) {
            return [400, ['error' => [
                'code' => 'invalid_field',
                'field' => $name,
                'message' => "$name must be an Asterisk uniqueid (digits.digits)",
            ]]];
        }
    }
    $rows = \Apicall\cdr_rows($apicallConfig, $ids['uniqueid'], $ids['linkedid']);
    return [200, ['rows' => array_values($rows)]];
});
