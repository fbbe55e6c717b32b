<?php

/**
 * The local speech service (bin/apicall-speechd) supervised the FreePBX way, through the
 * module's control script bin/apicall-speech: what `fwconsole start`/`stop` do with it
 * (module.xml hooks), the every-minute job's watchdog, `fwconsole apicall:speech` and the
 * speech check of `fwconsole apicall:status`. The service runs only when `local` is among
 * the speech providers and stt_url points at this machine.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace Apicall;

use FreePBX\modules\Apicall as Module;

require_once __DIR__ . '/probe.php';
require_once __DIR__ . '/process.php';

final class SpeechService
{
    /**
     * @param string $script    the control script (bin/apicall-speech of the module)
     * @param array $settings   the module's tts_provider, stt_provider and stt_url
     * @param array $freepbx    FreePBX's ASTVARLIBDIR, ASTLOGDIR and AMPASTERISKUSER
     */
    public function __construct(
        private string $script,
        private array $settings,
        private array $freepbx
    ) {
    }

    /** Whether `local` is in the TTS or the STT provider list (the service is in use). */
    public function inUse(): bool
    {
        foreach (['tts_provider', 'stt_provider'] as $key) {
            if (in_array('local', array_map('trim', explode(',', $this->settings[$key])), true)) {
                return true;
            }
        }
        return false;
    }

    /**
     * [host, port] of the local service as stt_url names it when that is plain http on a
     * loopback address (the service runs on this machine), else null (another machine).
     */
    public function address(): ?array
    {
        $url = parse_url($this->settings['stt_url']);
        $host = trim((string) ($url['host'] ?? ''), '[]');
        if (($url['scheme'] ?? '') !== 'http' || !($host === 'localhost' || $host === '::1' || strpos($host, '127.') === 0)) {
            return null;
        }
        return [$host === 'localhost' ? '127.0.0.1' : $host, (int) ($url['port'] ?? 80)];
    }

    /**
     * Runs bin/apicall-speech ACTION (install, start, stop, restart, status, watchdog,
     * remove). $onLine gets each line of its output as it comes. Returns [exit status, the
     * output (stdout and stderr)]; status exits 0 running, 1 not answering, 3 stopped,
     * 4 not installed.
     */
    public function run(string $action, ?callable $onLine = null): array
    {
        if (!is_file($this->script)) {
            return [127, sprintf(_('API Call: %s is missing: reinstall the module'), $this->script)];
        }
        $timeout = $action === 'install' ? 3600.0 : 180.0;
        [$code, $out, $err] = Process::run(['/bin/bash', $this->script, $action], $this->env(), null, $timeout, $onLine);
        return [$code, rtrim($out . $err)];
    }

    /**
     * `fwconsole start`: starts the service when it is installed and in use. $say gets
     * what to tell the admin.
     */
    public function start(callable $say): void
    {
        if (!$this->inUse()) {
            $say(_('API Call: the local speech service is not in use (tts_provider, stt_provider): not started.'));
            return;
        }
        if ($this->address() === null) {
            $say(sprintf(_('API Call: stt_url %s is not on this machine: the local speech service is not started here.'), $this->settings['stt_url']));
            return;
        }
        [$code] = $this->run('status');
        if ($code === 4) {
            $say(sprintf(_('API Call: the local speech service is not installed. To install it, as root: %s install'), Module::SPEECH_COMMAND));
            return;
        }
        [$code, $out] = $this->run('start');
        $say($out);
        if ($code !== 0) {
            $say(sprintf(_('API Call: the local speech service did not start. Try: %s restart'), Module::SPEECH_COMMAND));
        }
    }

    /**
     * `fwconsole stop`: stops the service when it is installed; the watchdog leaves it down
     * until `fwconsole start`.
     */
    public function stop(callable $say): void
    {
        [$code] = $this->run('status');
        if ($code === 4) {
            return;
        }
        [, $out] = $this->run('stop');
        $say($out);
    }

    /**
     * The every-minute job's watchdog: when the service is installed, in use, not stopped
     * on purpose and /health fails, says why and restarts it. Returns [ok, output]; the
     * output is empty when there was nothing to do.
     */
    public function watchdog(): array
    {
        if (!$this->inUse() || $this->address() === null) {
            return [true, ''];
        }
        [$code, $out] = $this->run('watchdog');
        if ($out !== '' && strpos($out, 'watchdog: ') !== false) {
            $this->log('speech service ' . str_replace("\n", ' / ', $out));
        }
        return [$code === 0, $out];
    }

    /**
     * The status check of the service: [ok, detail], the detail naming the exact command
     * that fixes it when it is down or not installed.
     */
    public function check(): array
    {
        $url = rtrim($this->settings['stt_url'], '/');
        [$ok, $detail] = Probe::http($url . '/health');
        if ($ok) {
            return [true, $detail];
        }
        $used = $this->inUse();
        if ($this->address() === null) {
            return [!$used, $detail . ($used ? '' : ' (not in use)')];
        }
        [$code, $out] = $this->run('status');
        switch ($code) {
            case 4:
                $fix = sprintf(_('not installed; to install it, as root: %s install'), Module::SPEECH_COMMAND);
                break;
            case 3:
                $fix = sprintf(_('not running; to start it: %s start'), Module::SPEECH_COMMAND);
                break;
            case 1:
                $fix = sprintf(_('not answering; to restart it: %s restart'), Module::SPEECH_COMMAND);
                break;
            default:
                $fix = sprintf(_('%s status says: %s'), Module::SPEECH_COMMAND, $out);
        }
        if (!$used) {
            return [true, sprintf(_('not in use (tts_provider, stt_provider); %s'), $fix)];
        }
        return [false, "$detail: $fix"];
    }

    /**
     * The environment of bin/apicall-speech: this process's, plus where FreePBX keeps its
     * data and logs, the user it runs its daemons as, and the address of stt_url. Variables
     * APICALL_SPEECH_* already set win (the test stack points them at its own service).
     */
    private function env(): array
    {
        $env = getenv();
        $env['ASTVARLIBDIR'] = $this->freepbx['ASTVARLIBDIR'];
        $env['ASTLOGDIR'] = $this->freepbx['ASTLOGDIR'];
        $more = ['APICALL_SPEECH_USER' => $this->freepbx['AMPASTERISKUSER']];
        $address = $this->address();
        if ($address !== null) {
            $more += ['APICALL_SPEECH_HOST' => $address[0], 'APICALL_SPEECH_PORT' => (string) $address[1]];
        }
        foreach ($more as $k => $v) {
            if (!isset($env[$k]) || $env[$k] === '') {
                $env[$k] = $v;
            }
        }
        return $env;
    }

    /** Appends a line to the module's log, $ASTLOGDIR/apicall.log (as the AGI side does). */
    private function log(string $line): void
    {
        $file = rtrim($this->freepbx['ASTLOGDIR'], '/') . '/apicall.log';
        @file_put_contents($file, sprintf("[%s] apicall: %s\n", date('Y-m-d H:i:s'), $line), FILE_APPEND);
    }
}
