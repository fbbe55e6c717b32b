<?php

/**
 * Helpers of the public entry points (index.php, aibot.php, cdr.php, answer.php):
 * request checks done before the extension is involved, the JSON answers, and the
 * guard that keeps the answer JSON even when the FreePBX bootstrap dies.
 *
 * Every answer is JSON (Content-Type: application/json; charset=utf-8), except the
 * audio answer.php serves. Errors:
 *   {"error": {"code": "<machine code>", "field": "<field>"|null, "message": "<text>"}}
 * with the HTTP status. Checks, in this order:
 *   405 method_not_allowed      not POST (index.php, aibot.php) or not GET (cdr.php,
 *                               answer.php); header Allow: the method expected
 *   415 unsupported_media_type  POST: Content-Type is not application/json (parameters
 *                               allowed; a charset other than UTF-8 is refused)
 *   413 body_too_large          POST: body over 65536 bytes
 *   503 extension_not_loaded    the apicall PHP extension (or a function the entry point
 *                               needs) is missing
 *   503 database_unavailable    the FreePBX bootstrap failed (database, configuration)
 * then the extension's own errors (Apicall\ApiError: status = getCode()) and
 *   500 internal_error          anything else (details only in the error log)
 *
 * Nothing here runs on its own: including the file only defines functions. The FreePBX
 * bootstrap itself is includes/bootstrap.php, required by each entry point at its top level.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace Apicall\Web;

require_once __DIR__ . '/freepbx.php';

const MAX_BODY = 65536;

/** Guard state: 'request' (before bootstrap), 'bootstrap', 'run'; whether an answer was sent. */
final class State
{
    public static string $phase = 'request';
    public static bool $answered = false;
    public static ?float $started = null;
    /** The method the entry point accepts (Allow header of 405 answers). */
    public static string $allow = 'POST';
}

/**
 * Starts buffering all output and registers the shutdown guard: if the script ends
 * without an answer (exit or fatal error in the bootstrap or later), the buffered
 * output is dropped and a JSON error is sent instead.
 */
function start(): void
{
    State::$started = microtime(true);
    ob_start();
    register_shutdown_function(__NAMESPACE__ . '\\on_shutdown');
    \Apicall\Boot\on_failure(__NAMESPACE__ . '\\bootstrap_failed');
}

function phase(string $phase): void
{
    State::$phase = $phase;
}

function on_shutdown(): void
{
    if (State::$answered) {
        return;
    }
    $err = error_get_last();
    $detail = $err !== null ? sprintf('%s in %s:%d', $err['message'], $err['file'], $err['line']) : 'script ended without an answer';
    if (State::$phase === 'bootstrap') {
        error_log('apicall: FreePBX bootstrap failed: ' . $detail);
        error(503, 'database_unavailable', null, 'The PBX database is not available');
        return;
    }
    error_log('apicall: internal error: ' . $detail);
    error(500, 'internal_error', null, 'Internal error');
}

/** Sends a JSON answer (dropping anything printed before) and marks the request answered. */
function respond(int $status, array $payload, array $headers = []): void
{
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    if (!headers_sent()) {
        http_response_code($status);
        header('Content-Type: application/json; charset=utf-8');
        header('Cache-Control: no-store');
        header('X-Content-Type-Options: nosniff');
        foreach ($headers as $name => $value) {
            header($name . ': ' . $value);
        }
    }
    $json = json_encode($payload, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);
    if ($json === false) {
        $json = '{"error":{"code":"internal_error","field":null,"message":"Internal error"}}';
    }
    echo $json, "\n";
    State::$answered = true;
}

/** Sends {"error": {...}}. */
function error(int $status, string $code, ?string $field, string $message, array $headers = []): void
{
    respond($status, ['error' => ['code' => $code, 'field' => $field, 'message' => $message]], $headers);
}

/** Sends an error and ends the request. */
function fail(int $status, string $code, ?string $field, string $message, array $headers = []): never
{
    error($status, $code, $field, $message, $headers);
    exit(0);
}

/**
 * Checks method, media type and size, and that the extension provides $functions
 * (names in the Apicall namespace). Returns the raw request body.
 *
 * @param string[] $functions
 */
function accept_json_post(array $functions = ['check_token', 'originate']): string
{
    State::$allow = 'POST';
    $method = strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? ''));
    if ($method !== 'POST') {
        fail(405, 'method_not_allowed', null, 'Use POST', ['Allow' => 'POST']);
    }
    if (!is_json_media_type((string) ($_SERVER['CONTENT_TYPE'] ?? $_SERVER['HTTP_CONTENT_TYPE'] ?? ''))) {
        fail(415, 'unsupported_media_type', null, 'Content-Type must be application/json');
    }
    $declared = $_SERVER['CONTENT_LENGTH'] ?? $_SERVER['HTTP_CONTENT_LENGTH'] ?? null;
    if ($declared !== null && $declared !== '' && (!ctype_digit((string) $declared) || strlen((string) $declared) > 12 || (int) $declared > MAX_BODY)) {
        fail(413, 'body_too_large', null, 'The request body is larger than ' . MAX_BODY . ' bytes');
    }
    $body = file_get_contents('php://input', false, null, 0, MAX_BODY + 1);
    if ($body === false) {
        $body = '';
    }
    if (strlen($body) > MAX_BODY) {
        fail(413, 'body_too_large', null, 'The request body is larger than ' . MAX_BODY . ' bytes');
    }
    require_extension($functions);
    return $body;
}

/**
 * Checks the method is GET and that the extension provides $functions.
 *
 * @param string[] $functions
 */
function accept_get(array $functions): void
{
    State::$allow = 'GET';
    $method = strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? ''));
    if ($method !== 'GET') {
        fail(405, 'method_not_allowed', null, 'Use GET', ['Allow' => 'GET']);
    }
    require_extension($functions);
}

/**
 * Answers 503 extension_not_loaded unless the extension provides $functions.
 *
 * @param string[] $functions
 */
function require_extension(array $functions): void
{
    if (!extension_ready()) {
        fail(503, 'extension_not_loaded', null, 'The apicall PHP extension is not loaded');
    }
    foreach ($functions as $function) {
        if (!function_exists('Apicall\\' . $function)) {
            fail(503, 'extension_not_loaded', null, "The apicall PHP extension has no Apicall\\$function (too old)");
        }
    }
}

/**
 * A query string parameter: null when absent or empty; 400 invalid_field when it is
 * not a single value (name[]=...).
 */
function query(string $name): ?string
{
    $value = $_GET[$name] ?? null;
    if ($value === null || $value === '') {
        return null;
    }
    if (!is_string($value)) {
        fail(400, 'invalid_field', $name, "$name must be a single value");
    }
    return $value;
}

/** "application/json", optionally with parameters; a charset must be UTF-8. */
function is_json_media_type(string $contentType): bool
{
    $parts = explode(';', $contentType);
    if (strtolower(trim($parts[0])) !== 'application/json') {
        return false;
    }
    foreach (array_slice($parts, 1) as $param) {
        $kv = explode('=', $param, 2);
        if (strtolower(trim($kv[0])) === 'charset') {
            $charset = strtolower(trim($kv[1] ?? '', " \t\""));
            if ($charset !== 'utf-8' && $charset !== 'utf8') {
                return false;
            }
        }
    }
    return true;
}

/** The extension is loaded: its token check and exception class exist. */
function extension_ready(): bool
{
    return function_exists('Apicall\\check_token')
        && class_exists('Apicall\\ApiError', false);
}



/** Answers 503 database_unavailable for a bootstrap that threw. */
function bootstrap_failed(\Throwable $e): never
{
    error_log('apicall: FreePBX bootstrap failed: ' . get_class($e) . ': ' . $e->getMessage());
    fail(503, 'database_unavailable', null, 'The PBX database is not available');
}


/** The client's address, for the allowlist and the failed-token limit. */
function remote_addr(): ?string
{
    $addr = $_SERVER['REMOTE_ADDR'] ?? null;
    return is_string($addr) && $addr !== '' ? $addr : null;
}

/** The "Idempotency-Key" request header, or null. */
function idempotency_key(): ?string
{
    $key = $_SERVER['HTTP_IDEMPOTENCY_KEY'] ?? null;
    return is_string($key) && $key !== '' ? $key : null;
}

/** The "token" request header, or null. */
function token(): ?string
{
    $token = $_SERVER['HTTP_TOKEN'] ?? null;
    return is_string($token) ? $token : null;
}

/**
 * Runs the request's work and answers: $work returns [status, payload], or null when
 * it has answered itself (send_file). ApiError becomes its JSON error; any other
 * Throwable a logged 500.
 */
function run(callable $work): void
{
    phase('run');
    try {
        $result = $work();
        if ($result === null && State::$answered) {
            return;
        }
        [$status, $payload] = $result;
        respond($status, $payload);
    } catch (\Throwable $e) {
        if (State::$answered) {
            error_log('apicall: error after the answer was sent: ' . get_class($e) . ': ' . $e->getMessage());
            return;
        }
        if ($e instanceof \Apicall\ApiError) {
            api_error($e);
            return;
        }
        error_log(sprintf(
            'apicall: internal error: %s: %s in %s:%d',
            get_class($e),
            $e->getMessage(),
            $e->getFile(),
            $e->getLine()
        ));
        error(500, 'internal_error', null, 'Internal error');
    }
}

/** The JSON error of an Apicall\ApiError. */
function api_error(\Throwable $e): void
{
    $status = (int) $e->getCode();
    if ($status < 400 || $status > 599) {
        $status = 500;
    }
    $code = property_exists($e, 'error') && is_string($e->error) && $e->error !== '' ? $e->error : 'error';
    $field = property_exists($e, 'field') && is_string($e->field) ? $e->field : null;
    $message = $e->getMessage() !== '' ? $e->getMessage() : $code;
    $headers = [];
    if ($status === 401) {
        $headers['WWW-Authenticate'] = 'Token';
    }
    if ($status === 405) {
        $headers['Allow'] = State::$allow;
    }
    if (property_exists($e, 'retry_after') && is_int($e->retry_after)) {
        $headers['Retry-After'] = (string) $e->retry_after;
    }
    error($status, $code, $field, $message, $headers);
}

/**
 * Sends the file at $path as the answer (200, $type, Content-Length, Cache-Control:
 * private), dropping anything printed before. Answers 404 not_found (JSON) when the
 * file cannot be read.
 */
function send_file(string $path, string $type): void
{
    $fh = $path !== '' ? @fopen($path, 'rb') : false;
    $stat = $fh !== false ? fstat($fh) : false;
    if ($fh === false || $stat === false || ($stat['mode'] & 0170000) !== 0100000) {
        if ($fh !== false) {
            fclose($fh);
        }
        error_log("apicall: cannot serve $path: not a readable file");
        error(404, 'not_found', null, 'No such file');
        return;
    }
    while (ob_get_level() > 0) {
        ob_end_clean();
    }
    if (!headers_sent()) {
        http_response_code(200);
        header('Content-Type: ' . $type);
        header('Content-Length: ' . $stat['size']);
        header('Cache-Control: private');
        header('X-Content-Type-Options: nosniff');
    }
    State::$answered = true;
    fpassthru($fh);
    fclose($fh);
}
