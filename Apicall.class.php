<?php

/**
 * API Call: the module's BMO class.
 *
 * The call logic lives in the Rust extension (functions Apicall\...). This class
 * installs the module (token, public folder), holds its settings in the kvstore
 * (table kvstore_FreePBX_modules_Apicall), builds the configuration array the
 * extension takes, writes the module's dialplan and renders the admin page.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\modules;

class Apicall extends \FreePBX_Helpers implements \BMO
{
    /** Module version; the Rust extension reports the same (Apicall\version()). */
    public const VERSION = '17.0.0';

    /** Entry points exposed (as symlinks) in $AMPWEBROOT/apicall/. */
    public const PUBLIC_FILES = ['index.php', 'aibot.php'];

    /** Dialplan context the call files start in. */
    public const MESSAGE_CONTEXT = 'apicall-message';

    /** Settings (kvstore keys) and their defaults. */
    public const SETTING_DEFAULTS = [
        'dial_context' => 'from-internal',
        'default_language' => 'it',
        'default_callerid' => '999',
    ];

    public $FreePBX;

    public function __construct($freepbx = null)
    {
        if ($freepbx === null) {
            throw new \Exception('Not given a FreePBX Object');
        }
        $this->FreePBX = $freepbx;
    }

    // ------------------------------------------------------------------ install

    /** Creates the token once and the public folder. Safe to run again (upgrade). */
    public function install(): void
    {
        $token = $this->getConfig('token');
        if (!is_string($token) || !preg_match('/^[0-9a-f]{64}$/', $token)) {
            $this->setConfig('token', self::newToken());
        }
        $this->installPublicFolder();
    }

    /** Removes the public folder and everything the module keeps in its kvstore (token included). */
    public function uninstall(): void
    {
        $this->removePublicFolder();
        $this->delConfig('token');
        $this->deleteAll();
    }

    /** Required by the BMO interface; backups go through Backup.php/Restore.php. */
    public function backup()
    {
    }

    /** Required by the BMO interface; backups go through Backup.php/Restore.php. */
    public function restore($backup)
    {
    }

    /** 64 lowercase hex characters (256 random bits). */
    public static function newToken(): string
    {
        if (function_exists('Apicall\\generate_token')) {
            return \Apicall\generate_token();
        }
        return bin2hex(random_bytes(32));
    }

    /** The API token, or '' when the module has none yet. */
    public function getToken(): string
    {
        $token = $this->getConfig('token');
        return is_string($token) ? $token : '';
    }

    /** $AMPWEBROOT/apicall */
    public function publicDir(): string
    {
        return rtrim($this->amp('AMPWEBROOT', '/var/www/html'), '/') . '/apicall';
    }

    /**
     * Makes $AMPWEBROOT/apicall a real folder holding only symlinks to the entry
     * points. A symlink left there by the original module (to a whole module folder)
     * is replaced; stale symlinks into this module are removed; other files are kept.
     */
    private function installPublicFolder(): void
    {
        $dir = $this->publicDir();
        if (is_link($dir)) {
            if (!unlink($dir)) {
                throw new \RuntimeException(sprintf(_('Cannot remove the old link %s'), $dir));
            }
        }
        if (!is_dir($dir) && !mkdir($dir, 0755, true) && !is_dir($dir)) {
            throw new \RuntimeException(sprintf(_('Cannot create %s'), $dir));
        }
        $moduleDirs = array_unique([$this->moduleDir(), __DIR__]);
        foreach (scandir($dir) ?: [] as $entry) {
            $path = $dir . '/' . $entry;
            if ($entry === '.' || $entry === '..' || in_array($entry, self::PUBLIC_FILES, true) || !is_link($path)) {
                continue;
            }
            $target = (string) readlink($path);
            foreach ($moduleDirs as $moduleDir) {
                if (strpos($target, $moduleDir . '/') === 0) {
                    unlink($path);
                    break;
                }
            }
        }
        foreach (self::PUBLIC_FILES as $file) {
            $link = $dir . '/' . $file;
            $target = $this->moduleDir() . '/' . $file;
            if (is_link($link) && readlink($link) === $target) {
                continue;
            }
            if (is_link($link) || file_exists($link)) {
                if (is_dir($link) && !is_link($link)) {
                    throw new \RuntimeException(sprintf(_('%s is a folder, expected a link'), $link));
                }
                unlink($link);
            }
            if (!symlink($target, $link)) {
                throw new \RuntimeException(sprintf(_('Cannot create the link %s'), $link));
            }
        }
    }

    private function removePublicFolder(): void
    {
        $dir = $this->publicDir();
        if (is_link($dir)) {
            unlink($dir);
            return;
        }
        if (!is_dir($dir)) {
            return;
        }
        foreach (self::PUBLIC_FILES as $file) {
            if (is_link($dir . '/' . $file)) {
                unlink($dir . '/' . $file);
            }
        }
        if (count(scandir($dir) ?: []) === 2) {
            rmdir($dir);
        }
    }

    /**
     * Where the entry points are linked to: the module folder in the web root (stays
     * valid when Module Admin replaces the folder on upgrade), else this file's folder.
     */
    private function moduleDir(): string
    {
        $inWebroot = rtrim($this->amp('AMPWEBROOT', '/var/www/html'), '/') . '/admin/modules/apicall';
        return is_file($inWebroot . '/Apicall.class.php') ? $inWebroot : __DIR__;
    }

    // ----------------------------------------------------------------- settings

    public function getSetting(string $key): string
    {
        if (!array_key_exists($key, self::SETTING_DEFAULTS)) {
            throw new \InvalidArgumentException("Unknown setting $key");
        }
        $value = $this->getConfig($key);
        if (!is_string($value) || $value === '') {
            return self::SETTING_DEFAULTS[$key];
        }
        return $value;
    }

    public function getDialContext(): string
    {
        return $this->getSetting('dial_context');
    }

    public function getDefaultLanguage(): string
    {
        return $this->getSetting('default_language');
    }

    public function getDefaultCallerId(): string
    {
        return $this->getSetting('default_callerid');
    }

    /**
     * The $config array the extension's functions take (all strings):
     * db_host, db_port, db_user, db_pass, db_name, db_socket, spool_dir,
     * tts_cache_dir, dial_context, default_language, default_callerid.
     */
    public function coreConfig(): array
    {
        global $amp_conf;
        $conf = is_array($amp_conf ?? null) ? $amp_conf : [];
        $host = (string) ($conf['AMPDBHOST'] ?? 'localhost');
        $socket = (string) ($conf['AMPDBSOCK'] ?? '');
        if ($socket === '' && $host === 'localhost') {
            // PDO/mysqli connect to "localhost" through the default socket, so must the core.
            $socket = (string) ini_get('pdo_mysql.default_socket');
        }
        return [
            'db_host' => $host,
            'db_port' => (string) ($conf['AMPDBPORT'] ?? '3306'),
            'db_user' => (string) ($conf['AMPDBUSER'] ?? ''),
            'db_pass' => (string) ($conf['AMPDBPASS'] ?? ''),
            'db_name' => (string) ($conf['AMPDBNAME'] ?? 'asterisk'),
            'db_socket' => $socket,
            'spool_dir' => rtrim($this->amp('ASTSPOOLDIR', '/var/spool/asterisk'), '/'),
            'tts_cache_dir' => rtrim($this->amp('ASTVARLIBDIR', '/var/lib/asterisk'), '/') . '/sounds/apicall/tts',
            'dial_context' => $this->getDialContext(),
            'default_language' => $this->getDefaultLanguage(),
            'default_callerid' => $this->getDefaultCallerId(),
        ];
    }

    /** An Advanced Setting (FreePBX::Config()), else $amp_conf, else $default. */
    private function amp(string $key, string $default): string
    {
        global $amp_conf;
        $value = $this->FreePBX->Config->get($key);
        if (!is_string($value) || $value === '') {
            $value = $amp_conf[$key] ?? '';
        }
        return is_string($value) && $value !== '' ? $value : $default;
    }

    // ----------------------------------------------------------------- dialplan

    public static function myDialplanHooks()
    {
        return true;
    }

    /**
     * [apicall-message]: where every call file starts once the callee answers.
     * Plays APICALL_MESSAGE when set, then goes to the destination of the request.
     */
    public function doDialplanHook(&$ext, $engine, $priority)
    {
        $c = self::MESSAGE_CONTEXT;
        $ext->add($c, 's', '', new \ext_noop('apicall ${APICALL_ID}'));
        $ext->add($c, 's', '', new \ext_gotoif('$["${APICALL_MESSAGE}" = ""]', 'dest'));
        $ext->add($c, 's', '', new \ext_playback('${APICALL_MESSAGE}'));
        $ext->add($c, 's', 'dest', new \ext_goto('${APICALL_DEST_PRIORITY}', '${APICALL_DEST_EXTEN}', '${APICALL_DEST_CONTEXT}'));
    }

    // -------------------------------------------------------------------- pages

    public function doConfigPageInit($page)
    {
    }

    public function getActionBar($request)
    {
        return [];
    }

    public function showPage(): string
    {
        $html = load_view(__DIR__ . '/views/main.php', [
            'token' => $this->getToken(),
            'endpoint' => $this->publicUrl() . '/index.php',
            'aibotEndpoint' => $this->publicUrl() . '/aibot.php',
            'settings' => [
                'dial_context' => $this->getDialContext(),
                'default_language' => $this->getDefaultLanguage(),
                'default_callerid' => $this->getDefaultCallerId(),
            ],
            'version' => self::VERSION,
            'extensionVersion' => function_exists('Apicall\\version') ? \Apicall\version() : '',
        ]);
        return is_string($html) ? $html : '';
    }

    /** Base URL of the public folder as seen by the browser showing the page. */
    private function publicUrl(): string
    {
        $https = (!empty($_SERVER['HTTPS']) && strtolower((string) $_SERVER['HTTPS']) !== 'off')
            || (($_SERVER['HTTP_X_FORWARDED_PROTO'] ?? '') === 'https');
        $host = (string) ($_SERVER['HTTP_HOST'] ?? 'HOST');
        if (!preg_match('/^[A-Za-z0-9.\-:\[\]]+$/', $host)) {
            $host = 'HOST';
        }
        return ($https ? 'https' : 'http') . '://' . $host . '/apicall';
    }
}
