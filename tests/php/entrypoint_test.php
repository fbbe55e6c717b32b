<?php

/**
 * The public entry points (index.php, aibot.php, cdr.php, answer.php) served over real
 * HTTP by PHP's built-in web server, from a folder of symlinks like $AMPWEBROOT/apicall.
 *
 * - request checks (405, 415, 413) and 503 extension_not_loaded: no stack needed;
 * - bootstrap failures (503 database_unavailable) and the JSON mapping of errors, with
 *   a PHP double of the extension (fixtures/fake_extension.php);
 * - tests marked [stack] use the stack's freepbx.conf and MariaDB (fail without `make up`);
 * - tests marked [ext] use the built extension (target/debug/libapicall.so), skipped
 *   when it has not been built.
 * Full HTTP flows through Apache are the integration suite's (tests/integration).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

const JSON = ['Content-Type' => 'application/json'];


/** Environment without the stack's extra ini dir: the extension is not loaded. */
function bare_env(array $extra = []): array
{
    return array_merge(['PHP_INI_SCAN_DIR' => null, 'FREEPBX_CONF' => '/nonexistent/freepbx.conf'], $extra);
}

function extension_loaded_in(array $env, array $phpArgs = []): bool
{
    $full = getenv();
    foreach ($env as $k => $v) {
        if ($v === null) {
            unset($full[$k]);
        } else {
            $full[$k] = $v;
        }
    }
    $cmd = array_merge([PHP_BINARY], $phpArgs, ['-r', 'echo function_exists("Apicall\\\\originate") ? "yes" : "no";']);
    $p = proc_open($cmd, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null, $full);
    $out = stream_get_contents($pipes[1]);
    fclose($pipes[1]);
    fclose($pipes[2]);
    proc_close($p);
    return trim((string) $out) === 'yes';
}

/** One server per configuration, started on first use. */
function server(string $name): WebServer
{
    static $servers = [];
    if (isset($servers[$name])) {
        return $servers[$name];
    }
    $fake = ['-d', 'auto_prepend_file=' . __DIR__ . '/fixtures/fake_extension.php'];
    $dir = tmpdir('apicall-confs');
    $dead = write_conf($dir, [
        'AMPDBUSER' => 'nobody', 'AMPDBPASS' => 'x', 'AMPDBHOST' => '127.0.0.1',
        'AMPDBPORT' => (string) free_port(), 'AMPDBNAME' => 'asterisk', 'AMPWEBROOT' => $dir,
    ]);
    switch ($name) {
        case 'bare':
            return $servers[$name] = new WebServer(bare_env());
        case 'fake-dead-db':
            return $servers[$name] = new WebServer(bare_env(['FREEPBX_CONF' => $dead]), $fake);
        case 'fake-no-conf':
            return $servers[$name] = new WebServer(bare_env(), $fake);
        case 'fake-noisy-exit':
            $conf = "$dir/noisy.conf";
            file_put_contents($conf, "<?php\necho '<h1>FATAL ERROR</h1><pre>trace</pre>';\nexit(1);\n");
            return $servers[$name] = new WebServer(bare_env(['FREEPBX_CONF' => $conf]), $fake);
        case 'fake-throws':
            $conf = "$dir/throws.conf";
            file_put_contents($conf, "<?php\nthrow new \\Exception('bootstrap exploded');\n");
            return $servers[$name] = new WebServer(bare_env(['FREEPBX_CONF' => $conf]), $fake);
        case 'fake-stack':
            return $servers[$name] = new WebServer(bare_env(['FREEPBX_CONF' => stack_conf(), 'APICALL_FAKE_DIR' => $dir]), $fake);
        case 'ext-stack':
        case 'ext-dead-db':
        case 'ext-stack-own-spool':
            $so = extension_so();
            if ($so === null) {
                skip('the extension is not built (target/debug/libapicall.so)');
            }
            $args = extension_loaded_in(bare_env()) ? [] : ['-d', 'extension=' . $so];
            $conf = ['ext-stack' => stack_conf(), 'ext-dead-db' => $dead][$name]
                // The stack's database, but a spool of its own: answers_dir is the test's.
                ?? write_conf($dir, array_merge(stack_amp_conf(), ['ASTSPOOLDIR' => own_spool()]));
            return $servers[$name] = new WebServer(bare_env(['FREEPBX_CONF' => $conf]), $args);
    }
    fail("unknown server $name");
}

/** ASTSPOOLDIR of the server "ext-stack-own-spool". */
function own_spool(): string
{
    static $dir = null;
    return $dir ??= tmpdir('apicall-spool');
}

function require_fake_possible(): void
{
    if (extension_loaded_in(bare_env())) {
        skip('the apicall extension is enabled globally for the CLI; the PHP double cannot be loaded');
    }
}

/**
 * The stack's token, after forgetting the failed token attempts recorded for this
 * machine's addresses: these tests present wrong tokens on purpose, and earlier suites or
 * reruns may have used up the per-address limit, which would turn the next requests into
 * 429s (the limit itself is tested in tests/integration/test_reliability.py).
 */
function stack_token(): string
{
    stack_pdo()->exec('DELETE FROM apicall_auth_failures');
    $t = stack_pdo()->query("SELECT `val` FROM `kvstore_FreePBX_modules_Apicall` WHERE `key` = 'token' AND `id` = 'noid'")->fetchColumn();
    if (!is_string($t) || $t === '') {
        fail('the stack has no token: module apicall not installed (make up)');
    }
    return $t;
}

// ------------------------------------------------------------ request checks

foreach (['index.php', 'aibot.php'] as $entry) {
    test("$entry: GET, PUT, HEAD and OPTIONS are 405 method_not_allowed with Allow: POST", function () use ($entry): void {
        foreach (['GET', 'PUT', 'DELETE', 'OPTIONS'] as $method) {
            $res = server('bare')->request($method, "/apicall/$entry", JSON, $method === 'PUT' ? '{}' : '');
            assert_error($res, 405, 'method_not_allowed');
            eq('POST', $res[1]['allow'] ?? null, "$method Allow header");
            eq('no-store', $res[1]['cache-control'] ?? null, 'Cache-Control');
        }
        $res = server('bare')->request('HEAD', "/apicall/$entry");
        eq(405, $res[0], 'HEAD');
        eq('POST', $res[1]['allow'] ?? null, 'HEAD Allow header');
    });

    test("$entry: a body that is not application/json is 415 unsupported_media_type", function () use ($entry): void {
        $s = server('bare');
        foreach (['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonp', 'application/json; charset=iso-8859-1'] as $ct) {
            assert_error($s->request('POST', "/apicall/$entry", ['Content-Type' => $ct], '{"tocall":"200"}'), 415, 'unsupported_media_type');
        }
        assert_error($s->request('POST', "/apicall/$entry", [], '{"tocall":"200"}'), 415, 'unsupported_media_type');
    });

    test("$entry: application/json with or without charset=utf-8 passes the media type check", function () use ($entry): void {
        $s = server('bare');
        if (extension_loaded_in(bare_env())) {
            skip('the extension is enabled globally for the CLI');
        }
        foreach (['application/json', 'application/json;charset=utf-8', 'Application/JSON; charset="UTF-8"'] as $ct) {
            assert_error($s->request('POST', "/apicall/$entry", ['Content-Type' => $ct], '{"tocall":"200"}'), 503, 'extension_not_loaded');
        }
    });

    test("$entry: a body over 65536 bytes is 413 body_too_large", function () use ($entry): void {
        $s = server('bare');
        $big = '{"tocall":"200","message":"' . str_repeat('a', 65536) . '"}';
        assert_error($s->request('POST', "/apicall/$entry", JSON, $big), 413, 'body_too_large');
        $res = $s->request('POST', "/apicall/$entry", JSON + ['Transfer-Encoding' => 'chunked'], dechunked_body($big), false);
        assert_error($res, 413, 'body_too_large');
    });

    test("$entry: without the extension the answer is 503 extension_not_loaded", function () use ($entry): void {
        if (extension_loaded_in(bare_env())) {
            skip('the extension is enabled globally for the CLI');
        }
        $exactly = '{"tocall":"' . str_repeat('1', 65536 - 13) . '"}';
        eq(65536, strlen($exactly));
        assert_error(server('bare')->request('POST', "/apicall/$entry", JSON, $exactly), 503, 'extension_not_loaded');
    });
}

foreach (['cdr.php', 'answer.php'] as $entry) {
    test("$entry: POST, PUT, DELETE, OPTIONS and HEAD are 405 method_not_allowed with Allow: GET", function () use ($entry): void {
        foreach (['POST', 'PUT', 'DELETE', 'OPTIONS'] as $method) {
            $res = server('bare')->request($method, "/apicall/$entry?uniqueid=1.2&f=a&e=1&s=x", JSON, in_array($method, ['POST', 'PUT'], true) ? '{}' : '');
            assert_error($res, 405, 'method_not_allowed');
            eq('GET', $res[1]['allow'] ?? null, "$method Allow header");
        }
        $res = server('bare')->request('HEAD', "/apicall/$entry");
        eq(405, $res[0], 'HEAD');
        eq('GET', $res[1]['allow'] ?? null, 'HEAD Allow header');
    });

    test("$entry: without the extension a GET is 503 extension_not_loaded", function () use ($entry): void {
        if (extension_loaded_in(bare_env())) {
            skip('the extension is enabled globally for the CLI');
        }
        assert_error(server('bare')->request('GET', "/apicall/$entry?uniqueid=1.2"), 503, 'extension_not_loaded');
    });
}

/** $body as HTTP/1.1 chunks (no Content-Length), to check the real size is enforced. */
function dechunked_body(string $body): string
{
    $out = '';
    foreach (str_split($body, 8192) as $chunk) {
        $out .= dechex(strlen($chunk)) . "\r\n" . $chunk . "\r\n";
    }
    return $out . "0\r\n\r\n";
}

// ------------------------------------------------------ bootstrap failures

test('index.php: an unreachable database is 503 database_unavailable (JSON, not an error page)', function (): void {
    require_fake_possible();
    assert_error(server('fake-dead-db')->request('POST', '/apicall/index.php', JSON + ['token' => 'x'], '{"tocall":"200"}'), 503, 'database_unavailable');
    assert_error(server('fake-dead-db')->request('POST', '/apicall/aibot.php', JSON + ['token' => 'x'], '{"PhoneNumber":"200"}'), 503, 'database_unavailable');
    assert_error(server('fake-dead-db')->request('GET', '/apicall/cdr.php?uniqueid=1.2', ['token' => 'x']), 503, 'database_unavailable');
    assert_error(server('fake-dead-db')->request('GET', '/apicall/answer.php?f=a.mp3&e=1&s=good'), 503, 'database_unavailable');
    contains('apicall: FreePBX bootstrap failed', server('fake-dead-db')->log(), 'the cause is logged');
});

test('index.php: a missing freepbx.conf is 503 database_unavailable', function (): void {
    require_fake_possible();
    assert_error(server('fake-no-conf')->request('POST', '/apicall/index.php', JSON, '{"tocall":"200"}'), 503, 'database_unavailable');
});

test('index.php: a bootstrap that prints and exits still yields only JSON 503', function (): void {
    require_fake_possible();
    $res = server('fake-noisy-exit')->request('POST', '/apicall/index.php', JSON, '{"tocall":"200"}');
    assert_error($res, 503, 'database_unavailable');
    ok(strpos($res[2], 'FATAL') === false, 'bootstrap output dropped: ' . $res[2]);
});

test('index.php: a bootstrap that throws yields JSON 503', function (): void {
    require_fake_possible();
    $res = server('fake-throws')->request('POST', '/apicall/index.php', JSON, '{"tocall":"200"}');
    assert_error($res, 503, 'database_unavailable');
    ok(strpos($res[2], 'exploded') === false, 'no internal detail in the answer');
    contains('bootstrap exploded', server('fake-throws')->log(), 'but it is logged');
});

// --------------------------------------- error mapping (PHP double, stack DB)

test('[stack] index.php: no token or a wrong token is 401 unauthorized', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    assert_error($s->request('POST', '/apicall/index.php', JSON, '{"tocall":"200"}'), 401, 'unauthorized');
    $res = $s->request('POST', '/apicall/index.php', JSON + ['token' => 'wrong'], '{"tocall":"200"}');
    assert_error($res, 401, 'unauthorized');
    eq('Token', $res[1]['www-authenticate'] ?? null, 'WWW-Authenticate');
});

test('[stack] index.php: the right token reaches originate() with the full $config', function (): void {
    require_fake_possible();
    [$status, $headers, $body, $json] = server('fake-stack')->request('POST', '/apicall/index.php', JSON + ['token' => stack_token()], '{"tocall":"2001"}');
    eq(200, $status, "status (body $body)\n" . server('fake-stack')->log());
    eq('application/json; charset=utf-8', $headers['content-type'] ?? null);
    eq(str_repeat('ab', 16), $json['id'] ?? null);
    eq('queued', $json['status'] ?? null);
    eq('2001', $json['tocall'] ?? null);
    eq(CONFIG_KEYS, $json['config_keys'] ?? null);
});

test('[stack] index.php: ApiError becomes {"error":{code,field,message}} with its status', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    $h = JSON + ['token' => stack_token()];
    $res = $s->request('POST', '/apicall/index.php', $h, '{"tocall":""}');
    assert_error($res, 400, 'invalid_field', 'tocall');
    eq('tocall must not be empty', $res[3]['error']['message']);
    assert_error($s->request('POST', '/apicall/index.php', $h, 'not json'), 400, 'invalid_json');
    assert_error($s->request('POST', '/apicall/index.php', $h, ''), 400, 'invalid_json');
});

test('[stack] index.php: other exceptions are 500 internal_error, details only in the log', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    $h = JSON + ['token' => stack_token()];
    foreach (['boom', 'error', 'exit'] as $case) {
        $res = $s->request('POST', '/apicall/index.php', $h, '{"tocall":"' . $case . '"}');
        assert_error($res, 500, 'internal_error');
        eq('Internal error', $res[3]['error']['message'], "$case: generic message");
    }
    contains('secret internal detail boom', $s->log());
    contains('apicall_fake_no_such_function', $s->log());
});

test('[stack] index.php: text printed before the answer does not corrupt the JSON', function (): void {
    require_fake_possible();
    [$status, , $body, $json] = server('fake-stack')->request('POST', '/apicall/index.php', JSON + ['token' => stack_token()], '{"tocall":"noise"}');
    eq(200, $status);
    ok(is_array($json) && strpos($body, 'noise</b>') === false, "clean JSON: $body");
});

/** The public_url coreConfig() gives a request to $server: the setting, else derived. */
function expected_public_url(WebServer $server): string
{
    $setting = stack_pdo()->query("SELECT `val` FROM `kvstore_FreePBX_modules_Apicall` WHERE `key` = 'public_url' AND `id` = 'noid'")->fetchColumn();
    if (is_string($setting) && $setting !== '') {
        return rtrim($setting, '/');
    }
    return 'http://127.0.0.1:' . $server->port . '/apicall';
}

// ------------------------------------------------------------------ aibot.php

test('[stack] aibot.php: a wrong or missing token is 401 and aibot_queue() is not reached', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    assert_error($s->request('POST', '/apicall/aibot.php', JSON + ['token' => 'nope'], '{"PhoneNumber":"2001"}'), 401, 'unauthorized');
    assert_error($s->request('POST', '/apicall/aibot.php', JSON, '{"PhoneNumber":""}'), 401, 'unauthorized');
});

test('[stack] aibot.php: the right token reaches aibot_queue() with the body as sent and the full $config', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    $body = '{"PhoneNumber": "2001", "MessageText": "Ciao è", "UserInputMethod": "digits", "SpeechContext": ["sì", "no"]}';
    [$status, $headers, $raw, $json] = $s->request('POST', '/apicall/aibot.php', ['Content-Type' => 'application/json;charset=utf-8', 'token' => stack_token()], $body);
    eq(200, $status, "status (body $raw)\n" . $s->log());
    eq('application/json; charset=utf-8', $headers['content-type'] ?? null);
    eq(str_repeat('cd', 16), $json['id'] ?? null);
    eq('queued', $json['status'] ?? null);
    eq('2001', $json['PhoneNumber'] ?? null);
    eq($body, $json['body'] ?? null, 'the raw body, byte for byte');
    eq(CONFIG_KEYS, $json['config_keys'] ?? null);
    eq(expected_public_url($s), $json['public_url'] ?? null, 'public_url derived from the request');
});

test('[stack] aibot.php: ApiError and other failures become JSON errors', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    $h = JSON + ['token' => stack_token()];
    assert_error($s->request('POST', '/apicall/aibot.php', $h, '{"MessageText":"x"}'), 400, 'missing_field', 'PhoneNumber');
    assert_error($s->request('POST', '/apicall/aibot.php', $h, '{"PhoneNumber":""}'), 400, 'invalid_field', 'PhoneNumber');
    assert_error($s->request('POST', '/apicall/aibot.php', $h, '[1'), 400, 'invalid_json');
    $res = $s->request('POST', '/apicall/aibot.php', $h, '{"PhoneNumber":"boom"}');
    assert_error($res, 500, 'internal_error');
    ok(strpos($res[2], 'secret') === false, 'no internal detail in the answer');
    contains('secret internal detail aibot boom', $s->log());
});

// -------------------------------------------------------------------- cdr.php

test('[stack] cdr.php: a wrong or missing token is 401, also with bad parameters', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    $res = $s->request('GET', '/apicall/cdr.php?uniqueid=1700000000.1');
    assert_error($res, 401, 'unauthorized');
    eq('Token', $res[1]['www-authenticate'] ?? null, 'WWW-Authenticate');
    assert_error($s->request('GET', '/apicall/cdr.php?uniqueid=1700000000.1', ['token' => 'nope']), 401, 'unauthorized');
    assert_error($s->request('GET', '/apicall/cdr.php?token=' . stack_token() . '&uniqueid=1700000000.1'), 401, 'unauthorized');
    assert_error($s->request('GET', '/apicall/cdr.php'), 401, 'unauthorized');
});

test('[stack] cdr.php: uniqueid or linkedid is required and must look like an Asterisk uniqueid', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    $h = ['token' => stack_token()];
    assert_error($s->request('GET', '/apicall/cdr.php', $h), 400, 'missing_field', 'uniqueid');
    assert_error($s->request('GET', '/apicall/cdr.php?uniqueid=&linkedid=', $h), 400, 'missing_field', 'uniqueid');
    assert_error($s->request('GET', '/apicall/cdr.php?other=1.2', $h), 400, 'missing_field', 'uniqueid');
    foreach (['abc', '1700000000', '1700000000.', '.5', '1.2.3', '1.2%0A', '-1.2', '1.2%27%20OR%201', str_repeat('1', 64) . '.1'] as $bad) {
        assert_error($s->request('GET', "/apicall/cdr.php?uniqueid=$bad", $h), 400, 'invalid_field', 'uniqueid');
        assert_error($s->request('GET', "/apicall/cdr.php?linkedid=$bad", $h), 400, 'invalid_field', 'linkedid');
    }
    assert_error($s->request('GET', '/apicall/cdr.php?uniqueid=1.2&linkedid=x', $h), 400, 'invalid_field', 'linkedid');
    assert_error($s->request('GET', '/apicall/cdr.php?uniqueid[]=1.2', $h), 400, 'invalid_field', 'uniqueid');
});

test('[stack] cdr.php: answers {"rows": [...]} from cdr_rows() with the ids given', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    $h = ['token' => stack_token()];
    [$status, $headers, $raw, $json] = $s->request('GET', '/apicall/cdr.php?uniqueid=1700000000.42', $h);
    eq(200, $status, "status (body $raw)\n" . $s->log());
    eq('application/json; charset=utf-8', $headers['content-type'] ?? null);
    eq(['rows' => [['uniqueid' => '1700000000.42', 'linkedid' => null, 'cdr_db_name' => 'asteriskcdrdb', 'billsec' => 3]]], $json);
    [$status, , , $json] = $s->request('GET', '/apicall/cdr.php?linkedid=1700000000.40', $h);
    eq(200, $status);
    eq([['uniqueid' => null, 'linkedid' => '1700000000.40', 'cdr_db_name' => 'asteriskcdrdb', 'billsec' => 3]], $json['rows'] ?? null);
    [$status, , , $json] = $s->request('GET', '/apicall/cdr.php?uniqueid=1700000000.42&linkedid=1700000000.40', $h);
    eq(200, $status);
    eq(['1700000000.42', '1700000000.40'], [$json['rows'][0]['uniqueid'] ?? null, $json['rows'][0]['linkedid'] ?? null], 'both passed on');
    [$status, , $raw] = $s->request('GET', '/apicall/cdr.php?uniqueid=1.1', $h);
    eq(200, $status);
    eq("{\"rows\":[]}\n", $raw, 'no rows is an empty list');
    assert_error($s->request('GET', '/apicall/cdr.php?uniqueid=2.2', $h), 503, 'database_unavailable');
});

// ----------------------------------------------------------------- answer.php

test('[stack] answer.php: serves the file answer_audio() returns, as audio/mpeg, without a token', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    [$status, $headers, $raw] = $s->request('GET', '/apicall/answer.php?f=' . rawurlencode('0123abcd/answer-1.mp3') . '&e=1900000000&s=good');
    eq(200, $status, "status (body $raw)\n" . $s->log());
    eq('audio/mpeg', $headers['content-type'] ?? null, 'Content-Type');
    eq('private', $headers['cache-control'] ?? null, 'Cache-Control');
    eq((string) strlen($raw), $headers['content-length'] ?? null, 'Content-Length');
    eq('ID3', substr($raw, 0, 3));
    eq(['f' => '0123abcd/answer-1.mp3', 'e' => '1900000000', 's' => 'good', 'url_secret_is_hex64' => true], json_decode(substr($raw, 3), true), 'arguments and config given to answer_audio()');
});

test('[stack] answer.php: bad signature 403, unknown file 404, as JSON errors', function (): void {
    require_fake_possible();
    $s = server('fake-stack');
    assert_error($s->request('GET', '/apicall/answer.php?f=a.mp3&e=1900000000&s=forged'), 403, 'forbidden');
    assert_error($s->request('GET', '/apicall/answer.php?f=a.mp3&e=1900000000'), 403, 'forbidden');
    assert_error($s->request('GET', '/apicall/answer.php'), 403, 'forbidden');
    assert_error($s->request('GET', '/apicall/answer.php?f=a.mp3&e=1900000000&s[]=good'), 403, 'forbidden');
    assert_error($s->request('GET', '/apicall/answer.php?f=missing.mp3&e=1900000000&s=good'), 404, 'not_found');
    assert_error($s->request('GET', '/apicall/answer.php?f=vanished.mp3&e=1900000000&s=good'), 404, 'not_found');
});

// ------------------------------------------------------- with the real extension

test('[stack][ext] index.php with the real extension: wrong token 401, bad JSON 400', function (): void {
    stack_token(); // clears the failed-attempt record first
    $s = server('ext-stack');
    assert_error($s->request('POST', '/apicall/index.php', JSON + ['token' => str_repeat('0', 64)], '{"tocall":"2001"}'), 401, 'unauthorized');
    assert_error($s->request('POST', '/apicall/index.php', JSON, '{"tocall":"2001"}'), 401, 'unauthorized');
    $res = $s->request('POST', '/apicall/index.php', JSON + ['token' => stack_token()], '{"tocall": ');
    eq(400, $res[0], 'status for broken JSON: ' . $res[2]);
    eq(['error'], array_keys($res[3] ?? []), 'error shape');
});

test('[stack][ext] a server process keeps the configuration: no FreePBX bootstrap while the kvstore is unchanged, a new one after a change', function (): void {
    require_extension_function('cached_config');
    $token = stack_token();
    $dir = tmpdir('apicall-kept');
    $conf = write_conf($dir, stack_amp_conf());
    $so = extension_so();
    $args = extension_loaded_in(bare_env()) ? [] : ['-d', 'extension=' . $so];
    // php -S serves every request in one process, as an Apache worker does.
    $s = new WebServer(bare_env(['FREEPBX_CONF' => $conf]), $args);
    // A valid token and an invalid body: the extension answers 400 and places no call.
    $ask = fn () => $s->request('POST', '/apicall/index.php', JSON + ['token' => $token], '{"tocall": "2001;x"}');
    assert_error($ask(), 400, 'invalid_field', 'tocall');
    unlink($conf); // from now on a bootstrap fails
    assert_error($ask(), 400, 'invalid_field', 'tocall');
    assert_error($ask(), 400, 'invalid_field', 'tocall');
    $pdo = stack_pdo();
    cleanup(function () use ($pdo): void {
        $pdo->exec("DELETE FROM `kvstore_FreePBX_modules_Apicall` WHERE `key` = 'test_kept_probe' AND `id` = 'noid'");
    });
    $pdo->exec("INSERT INTO `kvstore_FreePBX_modules_Apicall` (`key`, `val`, `type`, `id`) VALUES ('test_kept_probe', '1', NULL, 'noid')");
    // A changed kvstore row (a setting saved anywhere): the next request bootstraps again.
    assert_error($ask(), 503, 'database_unavailable');
});

test('[stack][ext] aibot.php with the real extension: wrong token 401, missing PhoneNumber 400', function (): void {
    stack_token(); // clears the failed-attempt record first
    require_extension_function('aibot_queue');
    $s = server('ext-stack');
    assert_error($s->request('POST', '/apicall/aibot.php', JSON + ['token' => str_repeat('0', 64)], '{"PhoneNumber":"2001"}'), 401, 'unauthorized');
    $res = $s->request('POST', '/apicall/aibot.php', JSON + ['token' => stack_token()], '{}');
    eq(400, $res[0], 'status: ' . $res[2]);
    eq('PhoneNumber', $res[3]['error']['field'] ?? null, 'field');
});

test('[stack][ext] cdr.php with the real extension: 401 without token, {"rows": [...]} with it', function (): void {
    stack_token(); // clears the failed-attempt record first
    require_extension_function('cdr_rows');
    $s = server('ext-stack');
    assert_error($s->request('GET', '/apicall/cdr.php?uniqueid=1.2'), 401, 'unauthorized');
    assert_error($s->request('GET', '/apicall/cdr.php', ['token' => stack_token()]), 400, 'missing_field', 'uniqueid');
    [$status, , $raw, $json] = $s->request('GET', '/apicall/cdr.php?uniqueid=1.2', ['token' => stack_token()]);
    eq(200, $status, "status (body $raw)");
    eq(['rows'], array_keys($json ?? []), 'shape');
    eq([], $json['rows'], 'no such call');
});

test('[stack][ext] cdr.php with the real extension: a real CDR row by its uniqueid and by its linkedid', function (): void {
    stack_token(); // clears the failed-attempt record first
    require_extension_function('cdr_rows');
    $env = stack_env();
    $row = stack_pdo()->query('SELECT `uniqueid`, `linkedid` FROM `' . ($env['CDR_DB'] ?? 'asteriskcdrdb') . "`.`cdr` WHERE `uniqueid` REGEXP '^[0-9]+[.][0-9]+$' ORDER BY `calldate` DESC LIMIT 1")->fetch(\PDO::FETCH_ASSOC);
    if ($row === false) {
        skip('the stack has no CDR yet (run make selftest)');
    }
    $s = server('ext-stack');
    [$status, , $raw, $json] = $s->request('GET', '/apicall/cdr.php?uniqueid=' . $row['uniqueid'], ['token' => stack_token()]);
    eq(200, $status, "status (body $raw)");
    ok(in_array($row['uniqueid'], array_column($json['rows'] ?? [], 'uniqueid'), true), "row {$row['uniqueid']} found: $raw");
    [$status, , $raw, $json] = $s->request('GET', '/apicall/cdr.php?linkedid=' . $row['linkedid'], ['token' => stack_token()]);
    eq(200, $status, "status (body $raw)");
    ok(in_array($row['linkedid'], array_column($json['rows'] ?? [], 'linkedid'), true), "linkedid {$row['linkedid']} found: $raw");
});

test('[stack][ext] answer.php with the real extension: 403 without or with a forged signature', function (): void {
    stack_token(); // clears the failed-attempt record first
    require_extension_function('answer_audio');
    $s = server('ext-stack');
    assert_error($s->request('GET', '/apicall/answer.php'), 403, 'forbidden');
    $e = (string) (time() + 3600);
    assert_error($s->request('GET', "/apicall/answer.php?f=x.mp3&e=$e&s=" . str_repeat('0', 64)), 403, 'forbidden');
});

test('[stack][ext] answer.php with the real extension: a signed link serves the mp3 until it expires', function (): void {
    stack_token(); // clears the failed-attempt record first
    require_extension_function('answer_audio');
    $s = server('ext-stack-own-spool');
    $secret = (string) stack_pdo()->query("SELECT `val` FROM `kvstore_FreePBX_modules_Apicall` WHERE `key` = 'url_secret' AND `id` = 'noid'")->fetchColumn();
    ok(preg_match('/^[0-9a-f]{64}$/', $secret) === 1, 'the stack has a url_secret (module installed by make up)');
    $answers = own_spool() . '/apicall/answers';
    if (!is_dir($answers)) {
        mkdir($answers, 0755, true);
    }
    $file = str_repeat('0a', 16) . '-1.mp3';
    $mp3 = "ID3\x04\x00\x00\x00\x00\x00\x00" . str_repeat("\xff\xfb\x90\x00", 8);
    file_put_contents("$answers/$file", $mp3);
    $e = (string) (time() + 600);
    $sig = hash_hmac('sha256', "$file\n$e", $secret);
    [$status, $headers, $raw] = $s->request('GET', "/apicall/answer.php?f=$file&e=$e&s=$sig");
    eq(200, $status, "status (body $raw)\n" . $s->log());
    eq('audio/mpeg', $headers['content-type'] ?? null);
    eq('private', $headers['cache-control'] ?? null);
    eq((string) strlen($mp3), $headers['content-length'] ?? null);
    eq($mp3, $raw, 'the file, byte for byte');
    assert_error($s->request('GET', "/apicall/answer.php?f=$file&e=" . ($e + 1) . "&s=$sig"), 403, 'forbidden');
    $old = (string) (time() - 1);
    assert_error($s->request('GET', "/apicall/answer.php?f=$file&e=$old&s=" . hash_hmac('sha256', "$file\n$old", $secret)), 403, 'forbidden');
    unlink("$answers/$file");
    assert_error($s->request('GET', "/apicall/answer.php?f=$file&e=$e&s=$sig"), 404, 'not_found');
});

test('[ext] index.php with the real extension and no database: 503 database_unavailable', function (): void {
    assert_error(server('ext-dead-db')->request('POST', '/apicall/index.php', JSON + ['token' => 'x'], '{"tocall":"2001"}'), 503, 'database_unavailable');
});
