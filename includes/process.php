<?php

/**
 * Runs a program of the module (bin/apicall-speech, bin/apicall) without a shell: the
 * command is an argument list, the environment and stdin are given, stdout and stderr are
 * read as they come (lines of stdout can be handed on at once, for long installs).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace Apicall;

final class Process
{
    /**
     * Runs $cmd and returns [exit status, stdout, stderr]; 127 when it cannot start.
     *
     * @param string[] $cmd
     * @param array<string,string>|null $env   the whole environment (null: this process's)
     * @param callable|null $onLine            called with each line of stdout and stderr
     *                                         (without the newline) as it arrives
     */
    public static function run(array $cmd, ?array $env = null, ?string $stdin = null, float $timeout = 120.0, ?callable $onLine = null): array
    {
        $spec = [0 => $stdin === null ? ['file', '/dev/null', 'r'] : ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']];
        $p = @proc_open($cmd, $spec, $pipes, null, $env);
        if (!is_resource($p)) {
            return [127, '', 'cannot run ' . $cmd[0]];
        }
        if ($stdin !== null) {
            fwrite($pipes[0], $stdin);
            fclose($pipes[0]);
        }
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $out = ['', ''];
        $partial = ['', ''];
        $deadline = microtime(true) + $timeout;
        $timedOut = false;
        while (!(feof($pipes[1]) && feof($pipes[2]))) {
            $read = [$pipes[1], $pipes[2]];
            $w = $e = null;
            if (@stream_select($read, $w, $e, 0, 200000) === false) {
                break;
            }
            foreach ($read as $r) {
                $i = $r === $pipes[1] ? 0 : 1;
                $chunk = (string) fread($r, 65536);
                $out[$i] .= $chunk;
                if ($onLine !== null && $chunk !== '') {
                    $partial[$i] .= $chunk;
                    while (($nl = strpos($partial[$i], "\n")) !== false) {
                        $onLine(substr($partial[$i], 0, $nl));
                        $partial[$i] = substr($partial[$i], $nl + 1);
                    }
                }
            }
            if (microtime(true) > $deadline) {
                proc_terminate($p, 9);
                $timedOut = true;
                break;
            }
        }
        foreach ($partial as $rest) {
            if ($onLine !== null && $rest !== '') {
                $onLine($rest);
            }
        }
        fclose($pipes[1]);
        fclose($pipes[2]);
        $code = proc_close($p);
        if ($timedOut) {
            return [124, $out[0], $out[1] . "\n" . sprintf('%s: timed out after %d s', basename($cmd[0]), (int) $timeout)];
        }
        return [$code, $out[0], $out[1]];
    }
}
