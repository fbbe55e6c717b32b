<?php

/**
 * The module's PHP extension on this machine: enabling the copy the release tarball ships
 * (ext/apicall.so) in PHP, taking it out again, and why it is or is not loaded in the PHP
 * running this code. Used by Apicall::install()/uninstall(), `fwconsole apicall:enable`,
 * the admin page and `fwconsole apicall:status`.
 *
 * The machine is given, not looked up: where PHP keeps its extensions and ini files,
 * whether this process is root, the shipped extension and the version loaded. The BMO
 * class describes the real machine (debianPhp()); the tests describe scratch folders.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace Apicall;

use FreePBX\modules\Apicall as Module;

require_once __DIR__ . '/probe.php';

final class ExtensionInstaller
{
    /**
     * @param array $system        where the extension goes: extension_dir, php_etc,
     *                             php_version, sapis, enmod, dismod, restart_web (debianPhp())
     * @param bool $asRoot         whether this process may change the system's PHP
     * @param string|null $shipped the extension this copy of the module ships, or null
     * @param string|null $loaded  the version of the extension loaded in this PHP, or null
     */
    public function __construct(
        private array $system,
        private bool $asRoot,
        private ?string $shipped,
        private ?string $loaded
    ) {
    }

    /**
     * Debian's PHP 8.2: the .so in PHP's extension directory, mods-available/apicall.ini
     * enabled (phpenmod) for Apache and the CLI, Apache restarted (a graceful reload would
     * dlclose/dlopen a loaded Rust library).
     */
    public static function debianPhp(): array
    {
        $ver = PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION;
        return [
            'extension_dir' => (string) PHP_EXTENSION_DIR,
            'php_etc' => "/etc/php/$ver",
            'php_version' => $ver,
            'sapis' => ['apache2', 'cli'],
            'enmod' => is_executable('/usr/sbin/phpenmod') ? '/usr/sbin/phpenmod' : '',
            'dismod' => is_executable('/usr/sbin/phpdismod') ? '/usr/sbin/phpdismod' : '',
            'restart_web' => ['/usr/bin/systemctl', 'try-restart', 'apache2'],
        ];
    }

    /** The PHP CLI binary used to probe whether an extension loads. */
    public static function phpCli(): string
    {
        if (PHP_SAPI === 'cli' && PHP_BINARY !== '') {
            return PHP_BINARY;
        }
        foreach ([PHP_BINDIR . '/php' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION, PHP_BINDIR . '/php', '/usr/bin/php'] as $php) {
            if (is_executable($php)) {
                return $php;
            }
        }
        return 'php';
    }

    /**
     * install(): enables the shipped extension when this runs as root, else says the one
     * command to run. Returns the lines to show.
     */
    public function install(): array
    {
        if ($this->shipped === null) {
            if ($this->loaded !== null) {
                return [sprintf(_('API Call: PHP extension %s loaded.'), $this->loaded)];
            }
            return [_('API Call: this copy of the module ships no PHP extension (ext/apicall.so) and none is loaded: install the release tarball, or build it (cargo build --release -p apicall-php).')];
        }
        if (!$this->asRoot) {
            if ($this->current()) {
                return [_('API Call: the PHP extension is installed and enabled.')];
            }
            return [sprintf(_('API Call: the PHP extension could not be enabled: this install does not run as root. As root, run: %s'), Module::ENABLE_COMMAND)];
        }
        return $this->enable()[1];
    }

    /**
     * Installs the shipped extension into PHP (needs root): checks that it loads, copies
     * it into PHP's extension directory, writes mods-available/apicall.ini, enables it for
     * Apache and the CLI and restarts Apache when anything changed.
     * Returns [ok, lines to show].
     */
    public function enable(): array
    {
        $shipped = $this->shipped;
        if ($shipped === null) {
            return [false, [_('API Call: this copy of the module ships no PHP extension (ext/apicall.so).')]];
        }
        if (!$this->asRoot) {
            return [false, [sprintf(_('API Call: enabling the PHP extension needs root. As root, run: %s'), Module::ENABLE_COMMAND)]];
        }
        [$loads, $detail] = Probe::extension(self::phpCli(), $shipped);
        if (!$loads) {
            $fix = Probe::fixFor($detail);
            return [false, [sprintf(_('API Call: %s cannot be loaded: %s'), $shipped, $detail)
                . ($fix !== '' ? ' ' . sprintf(_('Fix: %s'), $fix) : '')]];
        }
        $sys = $this->system;
        $lines = [];
        $changed = false;
        try {
            $target = $this->installedPath();
            if (!is_file($target) || hash_file('sha256', $target) !== hash_file('sha256', $shipped)) {
                // A new inode (copy + rename): running PHP processes keep the old one mapped.
                self::writeFileAtomic($target, (string) file_get_contents($shipped), 0644);
                $lines[] = sprintf(_('API Call: PHP extension %s installed as %s'), $detail, $target);
                $changed = true;
            }
            $ini = $this->iniPath();
            $iniText = "; The apicall module's PHP extension (FreePBX module API Call).\n; priority=30\nextension="
                . Module::EXTENSION . ".so\n";
            if (!is_file($ini) || file_get_contents($ini) !== $iniText) {
                self::writeFileAtomic($ini, $iniText, 0644);
                $changed = true;
            }
            foreach ($sys['sapis'] as $sapi) {
                $link = $this->iniLinkPath($sapi);
                if (is_file($link)) {
                    continue;
                }
                if ($sys['enmod'] !== '') {
                    [$code, $out] = Probe::run([$sys['enmod'], '-v', $sys['php_version'], '-s', $sapi, Module::EXTENSION]);
                    if ($code !== 0) {
                        throw new \RuntimeException("phpenmod -s $sapi: " . trim($out));
                    }
                } elseif (!is_dir(dirname($link)) || !symlink('../../mods-available/' . Module::EXTENSION . '.ini', $link)) {
                    throw new \RuntimeException("cannot create $link");
                }
                $lines[] = sprintf(_('API Call: PHP extension enabled for %s'), $sapi);
                $changed = true;
            }
        } catch (\Throwable $e) {
            return [false, array_merge($lines, [sprintf(_('API Call: enabling the PHP extension failed: %s'), $e->getMessage())])];
        }
        if (!$changed) {
            return [true, [sprintf(_('API Call: PHP extension %s is installed and enabled.'), $detail)]];
        }
        [$code, $out] = Probe::run($sys['restart_web']);
        $lines[] = $code === 0
            ? _('API Call: Apache restarted to load the extension.')
            : sprintf(_('API Call: restarting Apache failed (%s); restart it to load the extension.'), trim($out));
        return [$code === 0, $lines];
    }

    /**
     * uninstall(): takes the extension out of PHP when this runs as root (and it is the
     * module's: the ini file this module writes exists), else says how. Returns lines.
     */
    public function remove(): array
    {
        $sys = $this->system;
        $ini = $this->iniPath();
        $so = $this->installedPath();
        if (!is_file($ini) && !is_file($so)) {
            return [];
        }
        if (!$this->asRoot) {
            return [sprintf(
                _('API Call: the PHP extension stays enabled: this uninstall does not run as root. As root, run: phpdismod -v %s apicall; rm -f %s %s; systemctl restart apache2'),
                $sys['php_version'],
                $ini,
                $so
            )];
        }
        foreach ($sys['sapis'] as $sapi) {
            $link = $this->iniLinkPath($sapi);
            if ($sys['dismod'] !== '') {
                Probe::run([$sys['dismod'], '-v', $sys['php_version'], '-s', $sapi, Module::EXTENSION]);
            }
            if (is_link($link) || is_file($link)) {
                unlink($link);
            }
        }
        foreach ([$ini, $so] as $file) {
            if (is_file($file)) {
                unlink($file);
            }
        }
        Probe::run($sys['restart_web']);
        return [_('API Call: PHP extension disabled and removed; Apache restarted.')];
    }

    /**
     * The extension as the PHP running this code sees it: ['loaded', 'version',
     * 'module_version', 'ok', 'reason', 'fix'] (reason and fix empty when ok).
     */
    public function state(): array
    {
        $state = ['loaded' => false, 'version' => '', 'module_version' => Module::VERSION, 'ok' => false, 'reason' => '', 'fix' => ''];
        if ($this->loaded !== null) {
            $state['loaded'] = true;
            $state['version'] = $this->loaded;
            if ($state['version'] === Module::VERSION) {
                $state['ok'] = true;
            } else {
                $state['reason'] = sprintf(_('extension %s does not match module %s'), $state['version'], Module::VERSION);
                $state['fix'] = sprintf(_('as root: %s, then restart Apache'), Module::ENABLE_COMMAND);
            }
            return $state;
        }
        $sys = $this->system;
        $installed = $this->installedPath();
        $candidate = is_file($installed) ? $installed : $this->shipped;
        $sapi = ['apache2handler' => 'apache2', 'fpm-fcgi' => 'fpm'][PHP_SAPI] ?? PHP_SAPI;
        if ($candidate === null) {
            $state['reason'] = sprintf(_('not loaded: there is no %s'), $installed);
            $state['fix'] = _('install the module from its release tarball (it ships the extension), then as root: ') . Module::ENABLE_COMMAND;
            return $state;
        }
        [$loads, $detail] = Probe::extension(self::phpCli(), $candidate);
        if (!$loads) {
            $state['reason'] = sprintf(_('not loaded: %s cannot be loaded: %s'), $candidate, $detail);
            $fix = Probe::fixFor($detail);
            $state['fix'] = $fix !== '' ? sprintf(_('as root: %s'), $fix) : sprintf(_('as root: %s'), Module::ENABLE_COMMAND);
        } elseif ($candidate !== $installed) {
            $state['reason'] = sprintf(_('not loaded: not installed in %s'), $sys['extension_dir']);
            $state['fix'] = sprintf(_('as root: %s'), Module::ENABLE_COMMAND);
        } elseif (!is_file($sys['php_etc'] . "/$sapi/conf.d/" . $this->iniLinkName())) {
            $state['reason'] = sprintf(_('not loaded: not enabled for PHP %s (%s)'), $sapi, $sys['php_etc'] . "/$sapi/conf.d");
            $state['fix'] = sprintf(_('as root: %s'), Module::ENABLE_COMMAND);
        } else {
            $state['reason'] = _('not loaded: enabled, but this PHP started before it was enabled');
            $state['fix'] = _('as root: systemctl restart apache2');
        }
        return $state;
    }

    /** The installed extension is the shipped one and its ini is enabled for every SAPI. */
    private function current(): bool
    {
        $installed = $this->installedPath();
        if ($this->shipped === null || !is_file($installed) || hash_file('sha256', $installed) !== hash_file('sha256', $this->shipped)) {
            return false;
        }
        foreach ($this->system['sapis'] as $sapi) {
            if (!is_file($this->iniLinkPath($sapi))) {
                return false;
            }
        }
        return true;
    }

    /** <extension_dir>/apicall.so */
    private function installedPath(): string
    {
        return $this->system['extension_dir'] . '/' . Module::EXTENSION . '.so';
    }

    /** mods-available/apicall.ini, the file this module writes. */
    private function iniPath(): string
    {
        return $this->system['php_etc'] . '/mods-available/' . Module::EXTENSION . '.ini';
    }

    /** Where phpenmod enables the ini for one SAPI. */
    private function iniLinkPath(string $sapi): string
    {
        return $this->system['php_etc'] . "/$sapi/conf.d/" . $this->iniLinkName();
    }

    private function iniLinkName(): string
    {
        return '30-' . Module::EXTENSION . '.ini';
    }

    /** Writes a file through a temporary file and a rename (never half a file). */
    private static function writeFileAtomic(string $path, string $data, int $mode): void
    {
        $tmp = dirname($path) . '/.' . basename($path) . '.tmp' . getmypid();
        if (file_put_contents($tmp, $data) === false || !chmod($tmp, $mode) || !rename($tmp, $path)) {
            @unlink($tmp);
            throw new \RuntimeException("cannot write $path");
        }
    }
}
