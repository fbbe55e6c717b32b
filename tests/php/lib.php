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

/**
 * The keys of the $config array the extension gets, in coreConfig()'s order: contract.md
 * and contract-aibot.md, then every other setting of contract-next.md's table.
 */
const CONFIG_KEYS = ['db_host', 'db_port', 'db_user', 'db_pass', 'db_name', 'db_socket', 'spool_dir', 'tts_cache_dir',
    'dial_context', 'default_language', 'default_callerid', 'cdr_db_name', 'public_url', 'url_secret', 'answers_dir',
    'answer_url_lifetime', 'answer_retention_days', 'webhook_timeout', 'webhook_connect_timeout', 'stt_provider',
    'stt_url', 'stt_model',
    'default_voice', 'tts_provider', 'google_credentials_file', 'google_stt_url', 'google_tts_url', 'google_token_url',
    'openai_base_url', 'openai_api_key', 'openai_tts_model', 'openai_tts_voice', 'openai_stt_model', 'webhook_secret',
    'webhook_retries', 'webhook_fallback_url', 'status_event_ttl_hours', 'max_concurrent_calls',
    'token_failures_per_minute', 'ip_allowlist', 'allowed_hosts'];

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

// ------------------------------------------------------- scratch installs

/**
 * A database of its own on the stack's MariaDB (created as the database superuser
 * through the socket, so the tests must run as root, like `make test`), usable by the
 * stack's DB user; dropped at the end of the process. For installing the module in
 * isolation: its kvstore and tables never touch the running stack's.
 */
function scratch_database(): string
{
    $env = stack_env();
    if (function_exists('posix_geteuid') && posix_geteuid() !== 0) {
        skip('needs root (the database superuser logs in through the socket as root)');
    }
    try {
        $root = new \PDO('mysql:unix_socket=' . $env['DB_SOCKET'], 'root', '', [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
    } catch (\PDOException $e) {
        fail('STACK DATABASE UNREACHABLE as root: ' . $e->getMessage());
    }
    $name = 'apicall_t_' . bin2hex(random_bytes(5));
    $root->exec("CREATE DATABASE `$name` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
    $user = $env['DB_USER'];
    $root->exec("GRANT ALL PRIVILEGES ON `$name`.* TO '$user'@'localhost', '$user'@'127.0.0.1'");
    cleanup(static function () use ($root, $name, $user): void {
        $root->exec("REVOKE ALL PRIVILEGES ON `$name`.* FROM '$user'@'localhost', '$user'@'127.0.0.1'");
        $root->exec("DROP DATABASE IF EXISTS `$name`");
    });
    return $name;
}

/**
 * A FreePBX install of the module on a scratch web root and database (the stack's
 * MariaDB, Asterisk and spool): returns ['dir', 'conf', 'db', 'webroot'] where
 * $dir/www/admin/modules/apicall links to the repository and everything under $dir
 * belongs to the asterisk user (FreePBX's files do).
 */
function scratch_install(array $overrides = []): array
{
    $db = scratch_database();
    $dir = tmpdir('apicall-scratch');
    foreach (['www/admin/modules', 'etc', 'agi', 'lib', 'log'] as $d) {
        mkdir("$dir/$d", 0755, true);
    }
    symlink(repo(), "$dir/www/admin/modules/apicall");
    $amp = array_merge(stack_amp_conf(), [
        'AMPDBNAME' => $db,
        'AMPWEBROOT' => "$dir/www",
        'ASTETCDIR' => "$dir/etc",
        'ASTAGIDIR' => "$dir/agi",
        'ASTVARLIBDIR' => "$dir/lib",
        'ASTLOGDIR' => "$dir/log",
    ], $overrides);
    $conf = write_conf($dir, $amp);
    exec('chown -R asterisk:asterisk ' . escapeshellarg($dir));
    chmod($dir, 0755);
    return ['dir' => $dir, 'conf' => $conf, 'db' => $db, 'webroot' => "$dir/www"];
}

/**
 * Runs $cmd as the asterisk user (who runs FreePBX's PHP, Asterisk and Apache) with
 * the stack's environment plus $env; returns [exit status, stdout, stderr].
 *
 * @param string[] $cmd
 */
function run_as_asterisk(array $cmd, array $env = [], float $timeout = 60.0): array
{
    $stack = stack_env();
    $vars = ['PATH=/usr/local/bin:/usr/bin:/bin', 'HOME=/tmp', 'LANG=C.UTF-8'];
    foreach (['PHP_INI_SCAN_DIR', 'FREEPBX_CONF', 'ODBCSYSINI', 'ODBCINI'] as $k) {
        if (array_key_exists($k, $env)) {
            continue;
        }
        if (isset($stack[$k])) {
            $vars[] = "$k=" . $stack[$k];
        }
    }
    foreach ($env as $k => $v) {
        if ($v !== null) {
            $vars[] = "$k=$v";
        }
    }
    return run_cmd(array_merge(['runuser', '-u', 'asterisk', '--', 'env', '-i'], $vars, $cmd), getenv(), $timeout, '/tmp');
}

/**
 * Runs $cmd with stdin at EOF (as after Asterisk's AGI environment), or read from the file
 * $stdin, and returns [exit status, stdout, stderr].
 *
 * @param string[] $cmd
 */
function run_cmd(array $cmd, array $env, float $timeout = 30.0, ?string $cwd = null, string $stdin = '/dev/null'): array
{
    $p = proc_open($cmd, [0 => ['file', $stdin, 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, $cwd ?? repo(), $env);
    if (!is_resource($p)) {
        fail('cannot start ' . implode(' ', $cmd));
    }
    stream_set_blocking($pipes[1], false);
    stream_set_blocking($pipes[2], false);
    $out = $err = '';
    $deadline = microtime(true) + $timeout;
    while (true) {
        $read = [$pipes[1], $pipes[2]];
        $w = $e = null;
        if (@stream_select($read, $w, $e, 0, 200000) === false) {
            break;
        }
        foreach ($read as $r) {
            $chunk = (string) fread($r, 65536);
            if ($r === $pipes[1]) {
                $out .= $chunk;
            } else {
                $err .= $chunk;
            }
        }
        if (feof($pipes[1]) && feof($pipes[2])) {
            break;
        }
        if (microtime(true) > $deadline) {
            proc_terminate($p, 9);
            fail('timed out: ' . implode(' ', $cmd) . "\nstdout: $out\nstderr: $err");
        }
    }
    fclose($pipes[1]);
    fclose($pipes[2]);
    $code = proc_close($p);
    return [$code, $out, $err];
}


// ------------------------------------------------------------------- audio

/**
 * [rate, samples] of a 16-bit mono PCM WAV (the test phones' recordings, the TTS cache).
 * Walks the RIFF chunks rather than assuming a 44-byte header: writers add LIST chunks.
 */
function read_wav(string $path): array
{
    $data = (string) @file_get_contents($path);
    if (strlen($data) < 12 || substr($data, 0, 4) !== 'RIFF' || substr($data, 8, 4) !== 'WAVE') {
        fail("$path is not a WAV file");
    }
    $rate = null;
    $pos = 12;
    while ($pos + 8 <= strlen($data)) {
        $id = substr($data, $pos, 4);
        $size = unpack('V', substr($data, $pos + 4, 4))[1];
        if ($id === 'fmt ') {
            $fmt = unpack('vformat/vchannels/Vrate/Vbyterate/vblock/vbits', substr($data, $pos + 8, 16));
            if ($fmt['format'] !== 1 || $fmt['channels'] !== 1 || $fmt['bits'] !== 16) {
                fail("$path is not 16-bit mono PCM: " . export($fmt));
            }
            $rate = $fmt['rate'];
        } elseif ($id === 'data' && $rate !== null) {
            $pcm = substr($data, $pos + 8, $size);
            $pcm = substr($pcm, 0, strlen($pcm) - strlen($pcm) % 2);
            return [$rate, $pcm === '' ? [] : array_values(unpack('s*', $pcm))];
        }
        $pos += 8 + $size + ($size % 2);
    }
    fail("$path has no fmt and data chunks");
}

/**
 * Whether the WAV at $path has been closed by its writer: Asterisk fills in the RIFF size when
 * it closes a recording, so until the call ends the header still describes an empty file.
 */
function wav_complete(string $path): bool
{
    clearstatcache(true, $path);
    $size = @filesize($path);
    $head = (string) @file_get_contents($path, false, null, 0, 8);
    return $size !== false && $size > 44 && strlen($head) === 8 && unpack('V', substr($head, 4))[1] === $size - 8;
}

/**
 * [seconds from the first to the last voiced frame, seconds of voiced frames]: a 20 ms frame
 * is voiced when its power is above -45 dBFS. The same measure as active_span() of
 * tests/integration/conftest.py, so a phone that recorded only silence gives [0, 0] whatever
 * the file's size.
 *
 * @param int[] $samples
 */
function active_span(int $rate, array $samples, int $frameMs = 20, float $thresholdDbfs = -45.0): array
{
    $n = intdiv($rate * $frameMs, 1000);
    $limit = (10 ** ($thresholdDbfs / 20) * 32768) ** 2;
    $first = $last = null;
    $voiced = 0;
    for ($i = 0, $frame = 0; $i + $n <= count($samples); $i += $n, $frame++) {
        $sum = 0;
        for ($j = $i; $j < $i + $n; $j++) {
            $sum += $samples[$j] * $samples[$j];
        }
        if ($sum / $n > $limit) {
            $first ??= $frame;
            $last = $frame;
            $voiced++;
        }
    }
    if ($first === null) {
        return [0.0, 0.0];
    }
    return [($last - $first + 1) * $frameMs / 1000, $voiced * $frameMs / 1000];
}
