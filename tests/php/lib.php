<?php

/**
 * The tiny test library of tests/php (no composer): test registration, assertions,
 * the local stack's environment, bootstrapping the stand-in FreePBX, and a PHP
 * built-in web server for the entry points.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

/** The module's public entry points (Apicall::PUBLIC_FILES), as $AMPWEBROOT/apicall holds them. */
const PUBLIC_FILES = ['index.php', 'aibot.php', 'cdr.php', 'answer.php'];

final class SkipTest extends \Exception
{
}

final class AssertionFailed extends \Exception
{
}

final class Registry
{
    /** @var array<int, array{0: string, 1: callable}> */
    public static array $tests = [];
    /** @var callable[] */
    public static array $cleanups = [];
}

function test(string $name, callable $fn): void
{
    Registry::$tests[] = [$name, $fn];
}

/** Runs at the end of the test file's process, even when tests failed. */
function cleanup(callable $fn): void
{
    Registry::$cleanups[] = $fn;
}

function skip(string $reason): never
{
    throw new SkipTest($reason);
}

function fail(string $message): never
{
    throw new AssertionFailed($message);
}

function ok($cond, string $message = 'expected a true condition'): void
{
    if ($cond !== true) {
        fail($message);
    }
}

function eq($expected, $actual, string $message = ''): void
{
    if ($expected !== $actual) {
        fail(($message !== '' ? $message . ': ' : '') . 'expected ' . export($expected) . ', got ' . export($actual));
    }
}

function contains(string $needle, string $haystack, string $message = ''): void
{
    if (strpos($haystack, $needle) === false) {
        fail(($message !== '' ? $message . ': ' : '') . 'expected to find ' . export($needle) . ' in ' . export($haystack));
    }
}

function throws(callable $fn, string $class = \Throwable::class): \Throwable
{
    try {
        $fn();
    } catch (\Throwable $e) {
        if (!($e instanceof $class)) {
            fail('expected ' . $class . ', got ' . get_class($e) . ': ' . $e->getMessage());
        }
        return $e;
    }
    fail('expected ' . $class . ' to be thrown');
}

function export($v): string
{
    $s = var_export($v, true);
    return strlen($s) > 2000 ? substr($s, 0, 2000) . '...' : $s;
}

function repo(): string
{
    return dirname(__DIR__, 2);
}

/** A fresh temporary directory removed at the end of the process. */
function tmpdir(string $prefix = 'apicall-test'): string
{
    $dir = sys_get_temp_dir() . '/' . $prefix . '-' . bin2hex(random_bytes(6));
    mkdir($dir, 0755, true);
    cleanup(static function () use ($dir): void {
        rmtree($dir);
    });
    return $dir;
}

function rmtree(string $path): void
{
    if (is_link($path) || is_file($path)) {
        @unlink($path);
        return;
    }
    if (!is_dir($path)) {
        return;
    }
    foreach (scandir($path) ?: [] as $e) {
        if ($e !== '.' && $e !== '..') {
            rmtree($path . '/' . $e);
        }
    }
    @rmdir($path);
}

// ------------------------------------------------------------------- the stack

/** $STACK (default <repo>/.stack). */
function stack_dir(): string
{
    $s = getenv('STACK');
    return is_string($s) && $s !== '' ? rtrim($s, '/') : repo() . '/.stack';
}

/**
 * The variables of $STACK/env (written by `make up`). Fails the calling test, loudly,
 * when the stack has not been brought up: these tests must not pass without it.
 */
function stack_env(): array
{
    static $env = null;
    if ($env !== null) {
        return $env;
    }
    $file = stack_dir() . '/env';
    if (!is_readable($file)) {
        fail("STACK NOT UP: $file is missing. Run `make up` first (these tests need the stack's MariaDB).");
    }
    $env = [];
    foreach (file($file, FILE_IGNORE_NEW_LINES) ?: [] as $line) {
        if (preg_match('/^([A-Z_][A-Z0-9_]*)=(.*)$/', $line, $m)) {
            $env[$m[1]] = trim($m[2], "'\"");
        }
    }
    return $env;
}

function stack_conf(): string
{
    $env = stack_env();
    $conf = $env['FREEPBX_CONF'] ?? (stack_dir() . '/freepbx/freepbx.conf');
    if (!is_readable($conf)) {
        fail("STACK NOT UP: $conf is missing or unreadable. Run `make up` first.");
    }
    return $conf;
}

/** The $amp_conf the stack's freepbx.conf sets, without bootstrapping. */
function stack_amp_conf(): array
{
    $conf = stack_conf();
    return (static function (string $__conf): array {
        $bootstrap_settings = ['returnimmediately' => true];
        $amp_conf = [];
        include $__conf;
        return $amp_conf;
    })($conf);
}

/**
 * Bootstraps the stand-in FreePBX on the stack's database with $overrides applied to
 * $amp_conf (e.g. a temporary AMPWEBROOT, so tests never touch the running stack's
 * public folder). Fails loudly when the stack is not up or MariaDB is unreachable.
 */
function bootstrap_stack(array $overrides = []): \FreePBX
{
    $amp = array_merge(stack_amp_conf(), $overrides);
    foreach ($overrides as $k => $v) {
        if ($v === null) {
            unset($amp[$k]);
        }
    }
    $GLOBALS['amp_conf'] = $amp;
    $bootstrap_settings = ['freepbx_auth' => false, 'skip_astman' => true, 'freepbx_error_handler' => false];
    $restrict_mods = true;
    try {
        require repo() . '/tests/freepbx/bootstrap.php';
    } catch (\Throwable $e) {
        fail('STACK DATABASE UNREACHABLE: the FreePBX bootstrap failed: ' . $e->getMessage() . ' (is `make up` running?)');
    }
    return \FreePBX::create();
}

/** The stand-in's classes only (no database): for pure dialplan tests. */
function load_framework_classes(): void
{
    $d = repo() . '/tests/freepbx/lib';
    foreach (['functions', 'DB_Helper', 'BMO', 'FreePBX', 'Libraries', 'extensions'] as $f) {
        require_once "$d/$f.php";
    }
}

/** A PDO on the stack's database (independent of the stand-in). */
function stack_pdo(): \PDO
{
    $a = stack_amp_conf();
    require_once repo() . '/tests/freepbx/lib/Libraries.php';
    try {
        return new \PDO(\FreePBX\Database::dsnFromConf($a), $a['AMPDBUSER'] ?? '', $a['AMPDBPASS'] ?? '', [
            \PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION,
        ]);
    } catch (\PDOException $e) {
        fail('STACK DATABASE UNREACHABLE: ' . $e->getMessage() . ' (is `make up` running?)');
    }
}

/** Writes a freepbx.conf into $dir that uses $amp_conf and the stand-in's bootstrap. */
function write_conf(string $dir, array $amp_conf, string $extra = ''): string
{
    $php = "<?php\n";
    foreach ($amp_conf as $k => $v) {
        $php .= '$amp_conf[' . var_export($k, true) . '] = ' . var_export((string) $v, true) . ";\n";
    }
    $php .= $extra;
    $php .= 'require_once ' . var_export(repo() . '/tests/freepbx/bootstrap.php', true) . ";\n";
    $file = $dir . '/freepbx-' . bin2hex(random_bytes(4)) . '.conf';
    file_put_contents($file, $php);
    return $file;
}

/** A TCP port on 127.0.0.1 nothing listens on (right now). */
function free_port(): int
{
    $s = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr);
    if ($s === false) {
        fail("cannot find a free port: $errstr");
    }
    $name = stream_socket_get_name($s, false);
    fclose($s);
    return (int) substr((string) $name, strrpos((string) $name, ':') + 1);
}

/** Whether the built extension (target/.../libapicall.so) defines Apicall\$function. */
function extension_has(string $function): bool
{
    static $cache = [];
    $so = extension_so();
    if ($so === null) {
        return false;
    }
    if (!isset($cache[$function])) {
        $cmd = [PHP_BINARY, '-n', '-d', 'extension=' . $so, '-r',
            'echo function_exists(' . var_export('Apicall\\' . $function, true) . ') ? "yes" : "no";'];
        $p = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $out = stream_get_contents($pipes[1]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        proc_close($p);
        $cache[$function] = trim((string) $out) === 'yes';
    }
    return $cache[$function];
}

/** Skips the calling test unless the built extension defines Apicall\$function. */
function require_extension_function(string $function): void
{
    if (extension_so() === null) {
        skip('the extension is not built (target/debug/libapicall.so)');
    }
    if (!extension_has($function)) {
        skip("the built extension has no Apicall\\$function yet");
    }
}

/** The shared library of the extension when it has been built. */
function extension_so(): ?string
{
    foreach (['debug', 'release'] as $profile) {
        $so = repo() . "/target/$profile/libapicall.so";
        if (is_file($so)) {
            return $so;
        }
    }
    return null;
}

// -------------------------------------------------------------- web server

/**
 * A PHP built-in web server serving a document root whose apicall/ folder holds
 * symlinks to the module's entry points, like $AMPWEBROOT/apicall on FreePBX.
 */
final class WebServer
{
    public int $port;
    /** @var resource */
    private $proc;
    private string $log;

    /**
     * @param array<string,string> $env  extra environment (FREEPBX_CONF, PHP_INI_SCAN_DIR...)
     * @param string[] $phpArgs          extra php options (-d ...)
     */
    public function __construct(array $env, array $phpArgs = [])
    {
        $root = tmpdir('apicall-www');
        mkdir("$root/apicall");
        foreach (PUBLIC_FILES as $f) {
            symlink(repo() . "/$f", "$root/apicall/$f");
        }
        $this->port = free_port();
        $this->log = "$root/server.log";
        $cmd = array_merge([PHP_BINARY], $phpArgs, ['-d', 'display_errors=0', '-d', 'log_errors=1',
            '-d', 'error_log=' . $this->log, '-S', '127.0.0.1:' . $this->port, '-t', $root]);
        $fullEnv = getenv();
        foreach ($env as $k => $v) {
            if ($v === null) {
                unset($fullEnv[$k]);
            } else {
                $fullEnv[$k] = $v;
            }
        }
        $proc = proc_open($cmd, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->log, 'a'], 2 => ['file', $this->log, 'a']], $pipes, $root, $fullEnv);
        if (!is_resource($proc)) {
            fail('cannot start php -S');
        }
        $this->proc = $proc;
        cleanup(function (): void {
            $this->stop();
        });
        $deadline = microtime(true) + 10;
        while (microtime(true) < $deadline) {
            $s = @stream_socket_client('tcp://127.0.0.1:' . $this->port, $errno, $errstr, 0.2);
            if ($s !== false) {
                fclose($s);
                return;
            }
            usleep(50000);
        }
        fail('php -S did not start: ' . (string) @file_get_contents($this->log));
    }

    public function stop(): void
    {
        if (is_resource($this->proc)) {
            proc_terminate($this->proc);
            proc_close($this->proc);
        }
    }

    public function log(): string
    {
        return (string) @file_get_contents($this->log);
    }

    /**
     * Sends a raw HTTP/1.1 request; returns [status, headers (lowercase names), body, json|null].
     * @param array<string,string> $headers
     */
    public function request(string $method, string $path, array $headers = [], string $body = '', bool $sendLength = true): array
    {
        $s = stream_socket_client('tcp://127.0.0.1:' . $this->port, $errno, $errstr, 5);
        if ($s === false) {
            fail("cannot connect to the test web server: $errstr");
        }
        stream_set_timeout($s, 30);
        $req = "$method $path HTTP/1.1\r\nHost: 127.0.0.1:{$this->port}\r\nConnection: close\r\n";
        foreach ($headers as $k => $v) {
            $req .= "$k: $v\r\n";
        }
        if ($sendLength && ($body !== '' || $method === 'POST')) {
            $req .= 'Content-Length: ' . strlen($body) . "\r\n";
        }
        fwrite($s, $req . "\r\n" . $body);
        $raw = stream_get_contents($s);
        fclose($s);
        [$head, $payload] = array_pad(explode("\r\n\r\n", (string) $raw, 2), 2, '');
        $lines = explode("\r\n", $head);
        if (!preg_match('#^HTTP/1\.[01] (\d{3})#', $lines[0] ?? '', $m)) {
            fail('bad HTTP answer: ' . export($raw) . "\nserver log:\n" . $this->log());
        }
        $hdrs = [];
        foreach (array_slice($lines, 1) as $line) {
            $kv = explode(':', $line, 2);
            if (count($kv) === 2) {
                $hdrs[strtolower(trim($kv[0]))] = trim($kv[1]);
            }
        }
        if (stripos($hdrs['transfer-encoding'] ?? '', 'chunked') !== false) {
            $payload = dechunk($payload);
        }
        $json = json_decode($payload, true);
        return [(int) $m[1], $hdrs, $payload, is_array($json) ? $json : null];
    }
}

function dechunk(string $data): string
{
    $out = '';
    while ($data !== '') {
        $pos = strpos($data, "\r\n");
        if ($pos === false) {
            break;
        }
        $len = hexdec(trim(substr($data, 0, $pos)));
        if ($len === 0) {
            break;
        }
        $out .= substr($data, $pos + 2, (int) $len);
        $data = substr($data, $pos + 2 + (int) $len + 2);
    }
    return $out;
}

/** Asserts a JSON error answer: status, code, field and the JSON content type. */
function assert_error(array $res, int $status, string $code, ?string $field = null): void
{
    [$got, $headers, $body, $json] = $res;
    eq($status, $got, "HTTP status (body: $body)");
    eq('application/json; charset=utf-8', $headers['content-type'] ?? null, 'Content-Type');
    ok(is_array($json), 'the body is JSON: ' . $body);
    eq(['error'], array_keys($json), 'top-level keys');
    eq(['code', 'field', 'message'], array_keys($json['error']), 'error keys');
    eq($code, $json['error']['code'], 'error code');
    eq($field, $json['error']['field'], 'error field');
    ok(is_string($json['error']['message']) && $json['error']['message'] !== '', 'error message present');
}
