<?php

/**
 * API Call: the module's BMO class.
 *
 * The call logic lives in the Rust extension (functions Apicall\...). This class
 * installs the module (token, URL secret, public folder), holds its settings in the
 * kvstore (table kvstore_FreePBX_modules_Apicall), builds the configuration array the
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
    public const PUBLIC_FILES = ['index.php', 'aibot.php', 'cdr.php', 'answer.php'];

    /** Dialplan context the call files of index.php start in. */
    public const MESSAGE_CONTEXT = 'apicall-message';

    /** Dialplan context the call files of aibot.php start in. */
    public const AIBOT_CONTEXT = 'apicall-aibot';

    /** Hangup handler of aibot calls (sends the status webhook). */
    public const HANGUP_CONTEXT = 'apicall-hangup';

    /** The module's AGI script (agi-bin/, copied to ASTAGIDIR by fwconsole reload). */
    public const AGI_SCRIPT = 'apicall.php';

    /** Settings (kvstore keys) and their defaults. */
    public const SETTING_DEFAULTS = [
        'dial_context' => 'from-internal',
        'default_language' => 'it',
        'default_callerid' => '999',
        // Base URL of the public folder as clients reach it; '' = derived from each web request.
        'public_url' => '',
        'answer_url_lifetime' => '86400',
        'answer_retention_days' => '7',
        'webhook_timeout' => '5',
        'webhook_connect_timeout' => '2',
        'stt_provider' => 'local',
        'stt_url' => 'http://127.0.0.1:8765',
        'stt_model' => 'whisper-tiny.en',
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

    /**
     * Creates the token and the URL secret once (each 64 hex characters) and the public
     * folder. Safe to run again (upgrade): existing secrets are kept.
     */
    public function install(): void
    {
        foreach (['token', 'url_secret'] as $key) {
            $value = $this->getConfig($key);
            if (!is_string($value) || !preg_match('/^[0-9a-f]{64}$/', $value)) {
                $this->setConfig($key, self::newToken());
            }
        }
        $this->installPublicFolder();
    }

    /** Removes the public folder and everything the module keeps in its kvstore (secrets included). */
    public function uninstall(): void
    {
        $this->removePublicFolder();
        $this->delConfig('token');
        $this->delConfig('url_secret');
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

    /** The secret signing answer-audio URLs (HMAC-SHA256 key), or '' before install(). */
    public function getUrlSecret(): string
    {
        $secret = $this->getConfig('url_secret');
        return is_string($secret) ? $secret : '';
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
        if (is_int($value) || is_float($value)) {
            $value = (string) $value;
        }
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
     * Base URL of the public folder for the extension: the `public_url` setting when the
     * admin set one, else derived from the web request being served, else '' (CLI, e.g.
     * AGI scripts: the core then uses the URL stored with the call when it was queued).
     */
    public function getPublicUrl(): string
    {
        $setting = rtrim($this->getSetting('public_url'), '/');
        if ($setting !== '') {
            return $setting;
        }
        if (PHP_SAPI === 'cli' || PHP_SAPI === 'phpdbg') {
            return '';
        }
        return self::requestBaseUrl($_SERVER);
    }

    /**
     * scheme://host/folder of the public folder, from a web request's $_SERVER: the folder
     * of SCRIPT_NAME for a public entry point (e.g. http://pbx/apicall for
     * /apicall/aibot.php), else the apicall folder next to admin/ for an admin page, else
     * /apicall. '' when the Host header is not a plain host[:port].
     */
    public static function requestBaseUrl(array $server): string
    {
        $https = (!empty($server['HTTPS']) && strtolower((string) $server['HTTPS']) !== 'off')
            || strtolower((string) ($server['HTTP_X_FORWARDED_PROTO'] ?? '')) === 'https';
        $host = (string) ($server['HTTP_HOST'] ?? '');
        if (!preg_match('/^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/D', $host)) {
            return '';
        }
        $script = (string) ($server['SCRIPT_NAME'] ?? '');
        if (!preg_match('#^/[A-Za-z0-9._~/-]*$#D', $script) || strpos($script, '..') !== false) {
            $script = '';
        }
        if ($script !== '' && in_array(basename($script), self::PUBLIC_FILES, true)) {
            $folder = dirname($script);
        } elseif (preg_match('#^(.*)/admin/[^/]+$#', $script, $m)) {
            $folder = $m[1] . '/apicall';
        } else {
            $folder = '/apicall';
        }
        return ($https ? 'https' : 'http') . '://' . $host . rtrim($folder, '/');
    }

    /**
     * The $config array the extension's functions take (all strings):
     * db_host, db_port, db_user, db_pass, db_name, db_socket, spool_dir,
     * tts_cache_dir, dial_context, default_language, default_callerid,
     * cdr_db_name, public_url, url_secret, answers_dir, answer_url_lifetime,
     * answer_retention_days, webhook_timeout, webhook_connect_timeout,
     * stt_provider, stt_url, stt_model.
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
        $spool = rtrim($this->amp('ASTSPOOLDIR', '/var/spool/asterisk'), '/');
        return [
            'db_host' => $host,
            'db_port' => (string) ($conf['AMPDBPORT'] ?? '3306'),
            'db_user' => (string) ($conf['AMPDBUSER'] ?? ''),
            'db_pass' => (string) ($conf['AMPDBPASS'] ?? ''),
            'db_name' => (string) ($conf['AMPDBNAME'] ?? 'asterisk'),
            'db_socket' => $socket,
            'spool_dir' => $spool,
            'tts_cache_dir' => rtrim($this->amp('ASTVARLIBDIR', '/var/lib/asterisk'), '/') . '/sounds/apicall/tts',
            'dial_context' => $this->getDialContext(),
            'default_language' => $this->getDefaultLanguage(),
            'default_callerid' => $this->getDefaultCallerId(),
            'cdr_db_name' => $this->amp('CDRDBNAME', 'asteriskcdrdb'),
            'public_url' => $this->getPublicUrl(),
            'url_secret' => $this->getUrlSecret(),
            'answers_dir' => $spool . '/apicall/answers',
            'answer_url_lifetime' => $this->getSetting('answer_url_lifetime'),
            'answer_retention_days' => $this->getSetting('answer_retention_days'),
            'webhook_timeout' => $this->getSetting('webhook_timeout'),
            'webhook_connect_timeout' => $this->getSetting('webhook_connect_timeout'),
            'stt_provider' => $this->getSetting('stt_provider'),
            'stt_url' => $this->getSetting('stt_url'),
            'stt_model' => $this->getSetting('stt_model'),
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
     * [apicall-message]: where the call files of index.php start once the callee answers.
     * Plays APICALL_MESSAGE when set, then goes to the destination of the request.
     *
     * [apicall-aibot]: where the call files of aibot.php start. Presets the fallback
     * destination (hangup), pushes the hangup handler, hands the channel to the EAGI
     * script (the Rust core runs the conversation and sets APICALL_GOTO_*), then goes
     * there. `failed` runs when the call could not be placed (no answer, busy, ...).
     * [apicall-hangup]: the hangup handler; reports the call's status.
     *
     * The AGI/EAGI lines are written raw: FreePBX 17's ext_agi turns them into FastAGI
     * (agi://127.0.0.1/...), which has no audio and does not run the module's scripts.
     */
    public function doDialplanHook(&$ext, $engine, $priority)
    {
        $c = self::MESSAGE_CONTEXT;
        $ext->add($c, 's', '', new \ext_noop('apicall ${APICALL_ID}'));
        $ext->add($c, 's', '', new \ext_gotoif('$["${APICALL_MESSAGE}" = ""]', 'dest'));
        $ext->add($c, 's', '', new \ext_playback('${APICALL_MESSAGE}'));
        $ext->add($c, 's', 'dest', new \ext_goto('${APICALL_DEST_PRIORITY}', '${APICALL_DEST_EXTEN}', '${APICALL_DEST_CONTEXT}'));

        $c = self::AIBOT_CONTEXT;
        $ext->add($c, 's', '', new \ext_noop('apicall aibot ${APICALL_ID}'));
        $ext->add($c, 's', '', new \ext_setvar('APICALL_GOTO_CONTEXT', 'app-blackhole'));
        $ext->add($c, 's', '', new \ext_setvar('APICALL_GOTO_EXTEN', 'hangup'));
        $ext->add($c, 's', '', new \ext_setvar('APICALL_GOTO_PRIORITY', '1'));
        $ext->add($c, 's', '', new \ext_setvar('CHANNEL(hangup_handler_push)', self::HANGUP_CONTEXT . ',s,1'));
        $ext->add($c, 's', '', new \extension('EAGI(' . self::AGI_SCRIPT . ',session)'));
        $ext->add($c, 's', '', new \ext_goto('${APICALL_GOTO_PRIORITY}', '${APICALL_GOTO_EXTEN}', '${APICALL_GOTO_CONTEXT}'));
        $ext->add($c, 'failed', '', new \extension('AGI(' . self::AGI_SCRIPT . ',failed)'));
        $ext->add($c, 'failed', '', new \ext_hangup(''));

        $c = self::HANGUP_CONTEXT;
        $ext->add($c, 's', '', new \extension('AGI(' . self::AGI_SCRIPT . ',hangup)'));
        $ext->add($c, 's', '', new \ext_return(''));
    }

    /**
     * The work of agi-bin/apicall.php after the FreePBX bootstrap: logs to
     * $ASTLOGDIR/apicall.log and runs $command (session, failed, hangup) through the
     * extension. Returns the script's exit status.
     */
    public function runAgi(string $command): int
    {
        require_once __DIR__ . '/includes/agi.php';
        \Apicall\Agi\log_to(rtrim($this->amp('ASTLOGDIR', '/var/log/asterisk'), '/') . '/apicall.log');
        try {
            $config = $this->coreConfig();
        } catch (\Throwable $e) {
            error_log('apicall AGI: no configuration: ' . get_class($e) . ': ' . $e->getMessage());
            return 1;
        }
        return \Apicall\Agi\run($config, $command);
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
        $base = $this->publicUrl();
        $settings = [];
        foreach (array_keys(self::SETTING_DEFAULTS) as $key) {
            $settings[$key] = $this->getSetting($key);
        }
        $html = load_view(__DIR__ . '/views/main.php', [
            'token' => $this->getToken(),
            'endpoint' => $base . '/index.php',
            'aibotEndpoint' => $base . '/aibot.php',
            'cdrEndpoint' => $base . '/cdr.php',
            'settings' => $settings,
            'version' => self::VERSION,
            'extensionVersion' => function_exists('Apicall\\version') ? \Apicall\version() : '',
        ]);
        return is_string($html) ? $html : '';
    }

    /**
     * Base URL of the public folder for the page: the public_url setting, else as seen by
     * the browser showing the page (HOST when its Host header is unusable).
     */
    private function publicUrl(): string
    {
        $setting = rtrim($this->getSetting('public_url'), '/');
        if ($setting !== '') {
            return $setting;
        }
        $url = self::requestBaseUrl($_SERVER);
        if ($url === '') {
            $url = self::requestBaseUrl(['HTTP_HOST' => 'HOST'] + $_SERVER);
        }
        return $url;
    }
}
