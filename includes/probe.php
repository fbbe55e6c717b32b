<?php

/**
 * Health probes of `fwconsole apicall:status` and the admin page: each returns
 * [ok (bool), detail (what was found, or the reason it failed)]. No shell is used;
 * commands run with fixed argument lists.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace Apicall;

final class Probe
{
    /**
     * Logs in to the Asterisk Manager Interface and asks for the Asterisk version.
     */
    public static function ami(string $host, int $port, string $user, string $secret, float $timeout = 3.0): array
    {
        $where = "$host:$port";
        $errno = 0;
        $errstr = '';
        $sock = @stream_socket_client("tcp://$where", $errno, $errstr, $timeout);
        if ($sock === false) {
            return [false, "AMI at $where: cannot connect: " . ($errstr !== '' ? $errstr : "error $errno")];
        }
        stream_set_timeout($sock, (int) ceil($timeout));
        $banner = trim((string) fgets($sock));
        if (strpos($banner, 'Asterisk Call Manager') !== 0) {
            fclose($sock);
            return [false, "AMI at $where: not an Asterisk Manager Interface (" . ($banner !== '' ? $banner : 'no banner') . ')'];
        }
        $login = self::amiAction($sock, ['Action' => 'Login', 'Username' => $user, 'Secret' => $secret, 'Events' => 'off']);
        if (($login['Response'] ?? '') !== 'Success') {
            fclose($sock);
            $why = $login['Message'] ?? 'no answer';
            return [false, "AMI at $where: login as $user failed: $why (AMPMGRUSER/AMPMGRPASS)"];
        }
        $settings = self::amiAction($sock, ['Action' => 'CoreSettings']);
        self::amiAction($sock, ['Action' => 'Logoff']);
        fclose($sock);
        $version = $settings['AsteriskVersion'] ?? '';
        return [true, 'Asterisk ' . ($version !== '' ? $version : '(version unknown)') . " at $where, logged in as $user"];
    }

    /** Sends one AMI action and reads its answer (the first value of each key). */
    private static function amiAction($sock, array $fields): array
    {
        $msg = '';
        foreach ($fields as $k => $v) {
            $msg .= "$k: $v\r\n";
        }
        fwrite($sock, $msg . "\r\n");
        $resp = [];
        while (($line = fgets($sock)) !== false) {
            if ($line === "\r\n" || $line === "\n") {
                if ($resp !== []) {
                    break;
                }
                continue;
            }
            $kv = explode(':', $line, 2);
            if (count($kv) === 2 && !isset($resp[trim($kv[0])])) {
                $resp[trim($kv[0])] = trim($kv[1]);
            }
        }
        return $resp;
    }

    /** GET $url; OK when it answers 2xx. */
    public static function http(string $url, float $timeout = 3.0): array
    {
        $ctx = stream_context_create(['http' => [
            'method' => 'GET',
            'timeout' => $timeout,
            'ignore_errors' => true,
            'follow_location' => 0,
            'header' => "Accept: application/json\r\n",
        ]]);
        $http_response_header = [];
        $body = @file_get_contents($url, false, $ctx, 0, 65536);
        $status = $http_response_header[0] ?? '';
        if ($body === false || $status === '') {
            $err = error_get_last();
            $why = is_array($err) ? preg_replace('/^file_get_contents\([^)]*\): /', '', (string) $err['message']) : 'no answer';
            return [false, "GET $url: $why"];
        }
        if (!preg_match('#^HTTP/\S+ (\d{3})#', $status, $m) || $m[1][0] !== '2') {
            return [false, "GET $url: $status"];
        }
        return [true, "GET $url: " . trim(substr($status, strpos($status, ' ') + 1))];
    }

    /** A Google service account key file as the speech providers read it. */
    public static function googleCredentials(string $file): array
    {
        if ($file === '') {
            return [false, 'google_credentials_file is empty'];
        }
        if (!is_file($file)) {
            return [false, "$file does not exist"];
        }
        if (!is_readable($file)) {
            return [false, "$file is not readable by this user"];
        }
        $json = json_decode((string) file_get_contents($file, false, null, 0, 1 << 20), true);
        if (!is_array($json)) {
            return [false, "$file is not JSON"];
        }
        foreach (['client_email', 'private_key'] as $key) {
            if (!is_string($json[$key] ?? null) || $json[$key] === '') {
                return [false, "$file has no $key: not a service account key"];
            }
        }
        return [true, "service account {$json['client_email']} ($file)"];
    }

    /**
     * Loads $so into a fresh PHP CLI (no ini files). [true, version] when it loads and
     * defines Apicall\version(), else [false, the loader's reason].
     */
    public static function extension(string $php, string $so, float $timeout = 20.0): array
    {
        $cmd = [$php, '-n', '-d', 'display_errors=stdout', '-d', 'display_startup_errors=1', '-d', 'log_errors=0',
            '-d', 'extension=' . $so, '-r',
            'echo function_exists("Apicall\\\\version") ? "APICALL-OK " . \\Apicall\\version() : "APICALL-MISSING";'];
        [$code, $out] = self::run($cmd, $timeout);
        if ($code === 0 && preg_match('/APICALL-OK (\S+)/', $out, $m)) {
            return [true, $m[1]];
        }
        if (preg_match('/Unable to load dynamic library [^\n]*?\(tried: \S+ \((.*?)\)(, | in Unknown|\)|$)/m', $out, $m)) {
            return [false, $m[1]];
        }
        if (strpos($out, 'APICALL-MISSING') !== false) {
            return [false, "$so loads but defines no Apicall\\version(): not the apicall extension"];
        }
        $out = trim(preg_replace('/\s+/', ' ', $out));
        return [false, $out !== '' ? $out : "php exited with status $code"];
    }

    /** The fix for a loader error, when there is a known one. */
    public static function fixFor(string $reason): string
    {
        if (stripos($reason, 'libmp3lame') !== false) {
            return 'apt-get install libmp3lame0';
        }
        return '';
    }

    /**
     * Runs a command (argument list, no shell) and returns [exit status, stdout + stderr].
     *
     * @param string[] $cmd
     */
    public static function run(array $cmd, float $timeout = 20.0): array
    {
        require_once __DIR__ . '/process.php';
        [$code, $out, $err] = Process::run($cmd, null, null, $timeout);
        return [$code, $out . $err];
    }
}
