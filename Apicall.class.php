<?php

/**
 * API Call: the module's BMO class.
 *
 * The call logic lives in the Rust extension (functions Apicall\...). This class
 * installs the module (secrets, public folder, the extension into PHP when it runs as
 * root), holds its settings in the kvstore (table kvstore_FreePBX_modules_Apicall),
 * builds the configuration array the extension takes, writes the module's dialplan,
 * renders the admin page and answers the fwconsole commands (Console/).
 *
 * What FreePBX calls stays here; the larger concerns it hands on are plain classes in
 * includes/, loaded when first needed (an API request, which only needs coreConfig(),
 * loads none of them):
 * extension.php (the extension in the system's PHP), speech.php (the local speech
 * service), cli.php (the command-line tool), settings.php (the settings' page and
 * checks), probe.php (the status checks' probes).
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

    /** Settings (kvstore keys) and their defaults: the table of contract-next.md. */
    public const SETTING_DEFAULTS = [
        'dial_context' => 'from-internal',
        'default_language' => 'it',
        'default_callerid' => '999',
        'default_voice' => '',
        // Base URL of the public folder as clients reach it; '' = derived from each web request.
        'public_url' => '',
        'answer_url_lifetime' => '86400',
        'answer_retention_days' => '7',
        'webhook_timeout' => '5',
        'webhook_connect_timeout' => '2',
        'tts_provider' => 'local',
        'stt_provider' => 'local',
        'stt_url' => 'http://127.0.0.1:8765',
        'stt_model' => 'whisper-tiny.en',
        'google_credentials_file' => '/home/asterisk/google-auth.json',
        'google_stt_url' => 'https://speech.googleapis.com/v1/speech:recognize',
        'google_tts_url' => 'https://texttospeech.googleapis.com/v1/text:synthesize',
        'google_token_url' => 'https://oauth2.googleapis.com/token',
        'openai_base_url' => 'https://api.openai.com',
        'openai_api_key' => '',
        'openai_tts_model' => 'tts-1',
        'openai_tts_voice' => 'alloy',
        'openai_stt_model' => 'whisper-1',
        // HMAC-SHA256 key of the webhook signatures; 64 hex characters created by install().
        'webhook_secret' => '',
        'webhook_retries' => '8',
        'webhook_fallback_url' => '',
        'status_event_ttl_hours' => '48',
        'max_concurrent_calls' => '50',
        'token_failures_per_minute' => '10',
        'ip_allowlist' => '',
        'allowed_hosts' => '',
    ];

    /** Secrets install() creates (64 hex characters) when they are missing or malformed. */
    public const GENERATED_SECRETS = ['token', 'url_secret', 'webhook_secret'];

    /** What Backup.php carries besides the settings. */
    public const BACKUP_SECRETS = ['token', 'url_secret'];

    /** The extension as PHP loads it: <extension_dir>/apicall.so, mods-available/apicall.ini. */
    public const EXTENSION = 'apicall';

    /** The extension this copy of the module ships (release tarball), relative to the module. */
    public const SHIPPED_EXTENSION = 'ext/apicall.so';

    /** The one command an admin runs as root to enable the shipped extension. */
    public const ENABLE_COMMAND = 'fwconsole apicall:enable';

    /** The control script of the local speech service (install, start, stop, status, ...). */
    public const SPEECH_SCRIPT = 'bin/apicall-speech';

    /** The command an admin runs to manage the local speech service. */
    public const SPEECH_COMMAND = 'fwconsole apicall:speech';

    /**
     * The admin command-line tool (crate rust/cli), shipped stripped by the release tarball;
     * the environment variable APICALL_CLI names another build (development, tests).
     */
    public const CLI_BINARY = 'bin/apicall';

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
     * Creates the token, the URL secret and the webhook secret once (64 hex characters
     * each), publishes the entry points in $AMPWEBROOT/apicall/ and enables the shipped
     * extension in PHP when this runs as root (else says the one command to run). Safe to
     * run again (upgrade): existing secrets are kept.
     */
    public function install(): void
    {
        foreach (self::GENERATED_SECRETS as $key) {
            $value = $this->getConfig($key);
            $ok = is_string($value) && ($key === 'webhook_secret' ? $value !== '' : preg_match('/^[0-9a-f]{64}$/D', $value));
            if (!$ok) {
                $this->setConfig($key, self::newToken());
            }
        }
        $this->installPublicFolder();
        foreach ($this->extension()->install() as $line) {
            self::say($line);
        }
        // FreePBX's job runner delivers the outbox's due status events every minute.
        $this->FreePBX->Job->addClass('apicall', 'outbox', 'FreePBX\\modules\\Apicall\\Job', '* * * * *', 55);
    }

    /**
     * Removes what install() made: the public folder, the secrets and settings (the
     * kvstore), the extension from PHP when this runs as root (else says how), the
     * speech cache and the local speech service (stopped; its venv and models in
     * $ASTVARLIBDIR/apicall/speech deleted; the Debian packages it installed stay). FreePBX
     * drops the module.xml tables. Recorded answers in ASTSPOOLDIR/apicall stay, as FreePBX
     * keeps call recordings; the configuration the AGI processes keep there (it holds the
     * secrets) goes.
     */
    public function uninstall(): void
    {
        @unlink(rtrim($this->amp('ASTSPOOLDIR', '/var/spool/asterisk'), '/') . '/apicall/agi-config.json');
        // The local speech service: stopped, its venv and models deleted (apt packages stay).
        [, $out] = $this->runSpeech('remove');
        foreach (array_filter(explode("\n", $out)) as $line) {
            self::say($line);
        }
        @rmdir(rtrim($this->amp('ASTVARLIBDIR', '/var/lib/asterisk'), '/') . '/apicall');
        $this->removePublicFolder();
        foreach (self::GENERATED_SECRETS as $key) {
            $this->delConfig($key);
        }
        $this->deleteAll();
        $this->FreePBX->Job->removeAllByModule('apicall');
        foreach ($this->extension()->remove() as $line) {
            self::say($line);
        }
        self::removeTree(rtrim($this->amp('ASTVARLIBDIR', '/var/lib/asterisk'), '/') . '/sounds/apicall');
    }

    /** Required by the BMO interface; backups go through Backup.php/Restore.php. */
    public function backup()
    {
    }

    /** Required by the BMO interface; backups go through Backup.php/Restore.php. */
    public function restore($backup)
    {
    }

    /** What Backup.php saves: every stored setting plus the token and the URL secret. */
    public function backupSettings(): array
    {
        $out = [];
        foreach (array_merge(array_keys(self::SETTING_DEFAULTS), self::BACKUP_SECRETS) as $key) {
            $value = $this->getConfig($key);
            if (is_string($value) || is_int($value)) {
                $out[$key] = (string) $value;
            }
        }
        return $out;
    }

    /**
     * Restore.php: stores the known keys of a backup, each checked as the admin page
     * checks it (unknown keys, invalid values and secrets that are not 64 hex characters
     * are skipped). Returns the keys restored.
     */
    public function restoreSettings(array $saved): array
    {
        require_once __DIR__ . '/includes/settings.php';
        $done = [];
        foreach ($saved as $key => $value) {
            if (!is_string($key) || !(is_string($value) || is_int($value))) {
                continue;
            }
            $value = (string) $value;
            if (in_array($key, self::BACKUP_SECRETS, true)) {
                if (!preg_match('/^[0-9a-f]{64}$/D', $value)) {
                    continue;
                }
            } elseif (array_key_exists($key, self::SETTING_DEFAULTS)) {
                [$clean] = \Apicall\Settings::validate([$key => $value]);
                if (!array_key_exists($key, $clean)) {
                    continue;
                }
                $value = $clean[$key];
            } else {
                continue;
            }
            $this->setConfig($key, $value);
            $done[] = $key;
        }
        return $done;
    }

    /** Prints a line of an install or uninstall the way FreePBX modules do (out()). */
    private static function say(string $line): void
    {
        if (function_exists('out')) {
            out($line);
        } else {
            echo $line, "\n";
        }
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

    /**
     * Replaces the API token with a new one and returns it. The old token stops working
     * at once: the extension reads the token from the database on every request.
     */
    public function regenerateToken(): string
    {
        $token = self::newToken();
        $this->setConfig('token', $token);
        return $token;
    }

    /** Replaces the webhook signing secret with a new one (64 hex) and returns it. */
    public function regenerateWebhookSecret(): string
    {
        $secret = self::newToken();
        $this->setConfig('webhook_secret', $secret);
        return $secret;
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

    /** Removes a folder of the module and what it holds (symlinks are removed, not followed). */
    private static function removeTree(string $path): void
    {
        if (is_link($path) || is_file($path)) {
            unlink($path);
            return;
        }
        if (!is_dir($path)) {
            return;
        }
        foreach (scandir($path) ?: [] as $entry) {
            if ($entry !== '.' && $entry !== '..') {
                self::removeTree($path . '/' . $entry);
            }
        }
        rmdir($path);
    }

    // ---------------------------------------------------------------- extension
    // Enabling the shipped extension in PHP, and why it is or is not loaded, is
    // includes/extension.php. The four methods below tell it what this machine is; the
    // tests override them to point it at a scratch copy of PHP's folders.

    /** Where the extension goes on the system: Debian's PHP. */
    protected function systemPaths(): array
    {
        require_once __DIR__ . '/includes/extension.php';
        return \Apicall\ExtensionInstaller::debianPhp();
    }

    /** Whether this process may change the system's PHP (it runs as root). */
    protected function canManageSystem(): bool
    {
        return function_exists('posix_geteuid') && posix_geteuid() === 0;
    }

    /** The extension this copy of the module ships (release tarball), or null. */
    public function shippedExtension(): ?string
    {
        $so = __DIR__ . '/' . self::SHIPPED_EXTENSION;
        return is_file($so) ? $so : null;
    }

    /** The version of the extension loaded in this PHP, or null when it is not loaded. */
    protected function loadedExtensionVersion(): ?string
    {
        return function_exists('Apicall\\version') ? (string) \Apicall\version() : null;
    }

    /**
     * `fwconsole apicall:enable`: installs the shipped extension into PHP (needs root) and
     * restarts Apache when anything changed. Returns [ok, lines to show].
     */
    public function enableExtension(): array
    {
        return $this->extension()->enable();
    }

    /**
     * The extension as the PHP running this code sees it: ['loaded', 'version',
     * 'module_version', 'ok', 'reason', 'fix'] (reason and fix empty when ok).
     */
    public function extensionState(): array
    {
        return $this->extension()->state();
    }

    private function extension(): \Apicall\ExtensionInstaller
    {
        require_once __DIR__ . '/includes/extension.php';
        return new \Apicall\ExtensionInstaller(
            $this->systemPaths(),
            $this->canManageSystem(),
            $this->shippedExtension(),
            $this->loadedExtensionVersion()
        );
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

    /** Every setting with its current value (defaults filled in). */
    public function getSettings(): array
    {
        $out = [];
        foreach (array_keys(self::SETTING_DEFAULTS) as $key) {
            $out[$key] = $this->getSetting($key);
        }
        return $out;
    }

    /**
     * Validates $input (setting => string, e.g. the admin page's POST) and, when every
     * value is valid, stores them all. Nothing is stored when one is invalid. An empty
     * secret keeps the stored one. Returns the errors (setting => message).
     */
    public function saveSettings(array $input): array
    {
        require_once __DIR__ . '/includes/settings.php';
        [$clean, $errors] = \Apicall\Settings::validate($input);
        if ($errors !== []) {
            return $errors;
        }
        foreach ($clean as $key => $value) {
            $this->setConfig($key, $value);
        }
        return [];
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
        return $this->publicUrlFrom($this->getSetting('public_url'));
    }

    private function publicUrlFrom(string $setting): string
    {
        $setting = rtrim($setting, '/');
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
     * stt_provider, stt_url, stt_model, then every other setting of
     * SETTING_DEFAULTS under its own name (contract-next.md).
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
        // Every request of the API builds this: the module's stored values in one query,
        // not one query per setting (getConfig).
        $stored = $this->storedValues();
        $setting = static function (string $key) use ($stored): string {
            $value = $stored[$key] ?? null;
            if (is_int($value) || is_float($value)) {
                $value = (string) $value;
            }
            return is_string($value) && $value !== '' ? $value : self::SETTING_DEFAULTS[$key];
        };
        $config = [
            'db_host' => $host,
            'db_port' => (string) ($conf['AMPDBPORT'] ?? '3306'),
            'db_user' => (string) ($conf['AMPDBUSER'] ?? ''),
            'db_pass' => (string) ($conf['AMPDBPASS'] ?? ''),
            'db_name' => (string) ($conf['AMPDBNAME'] ?? 'asterisk'),
            'db_socket' => $socket,
            'spool_dir' => $spool,
            'tts_cache_dir' => rtrim($this->amp('ASTVARLIBDIR', '/var/lib/asterisk'), '/') . '/sounds/apicall/tts',
            'dial_context' => $setting('dial_context'),
            'default_language' => $setting('default_language'),
            'default_callerid' => $setting('default_callerid'),
            'cdr_db_name' => $this->amp('CDRDBNAME', 'asteriskcdrdb'),
            'public_url' => $this->publicUrlFrom($setting('public_url')),
            'url_secret' => is_string($stored['url_secret'] ?? null) ? $stored['url_secret'] : '',
            'answers_dir' => $spool . '/apicall/answers',
            'answer_url_lifetime' => $setting('answer_url_lifetime'),
            'answer_retention_days' => $setting('answer_retention_days'),
            'webhook_timeout' => $setting('webhook_timeout'),
            'webhook_connect_timeout' => $setting('webhook_connect_timeout'),
            'stt_provider' => $setting('stt_provider'),
            'stt_url' => $setting('stt_url'),
            'stt_model' => $setting('stt_model'),
        ];
        foreach (array_keys(self::SETTING_DEFAULTS) as $key) {
            if (!array_key_exists($key, $config)) {
                $config[$key] = $setting($key);
            }
        }
        return $config;
    }

    /**
     * The module's kvstore values (id "noid") in one query, decoded as getConfig() decodes
     * them; a value kept as a blob is read through getConfig().
     */
    private function storedValues(): array
    {
        // The table DB_Helper uses for this object (kvstore_ + its class, \ turned into _).
        $table = 'kvstore_' . str_replace('\\', '_', get_class($this));
        try {
            $rows = $this->FreePBX->Database
                ->query("SELECT `key`, `val`, `type` FROM `$table` WHERE `id` = 'noid'")
                ->fetchAll(\PDO::FETCH_ASSOC);
        } catch (\PDOException $e) {
            // No table yet (DB_Helper makes it on first use): one getConfig() per value.
            $rows = [];
            foreach (array_merge(array_keys(self::SETTING_DEFAULTS), ['url_secret']) as $key) {
                $rows[] = ['key' => $key, 'val' => null, 'type' => 'blob'];
            }
        }
        $out = [];
        foreach ($rows as $row) {
            $key = (string) $row['key'];
            $out[$key] = match ($row['type']) {
                'json-arr' => json_decode((string) $row['val'], true),
                'json-obj' => json_decode((string) $row['val']),
                'blob' => $this->getConfig($key),
                default => $row['val'],
            };
        }
        return $out;
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
        $logFile = rtrim($this->amp('ASTLOGDIR', '/var/log/asterisk'), '/') . '/apicall.log';
        \Apicall\Agi\log_to($logFile);
        try {
            $config = $this->coreConfig();
        } catch (\Throwable $e) {
            error_log('apicall AGI: no configuration: ' . get_class($e) . ': ' . $e->getMessage());
            return 1;
        }
        \Apicall\Agi\keep($config, __DIR__, $logFile);
        return \Apicall\Agi\run($config, $command);
    }

    // ------------------------------------------------------- local speech service
    // Supervised through the control script bin/apicall-speech: includes/speech.php.

    /**
     * `fwconsole start` (hook postAsteriskHooks of FreePBX\Console\Command\Start, declared in
     * module.xml): starts the local speech service when it is installed and the local
     * provider is in use. freepbx.service runs `fwconsole start` at boot.
     */
    public function startFreepbx($output = null): void
    {
        $this->speech()->start(self::writer($output));
    }

    /**
     * `fwconsole stop` (hook preAsteriskHooks of FreePBX\Console\Command\Stop): stops the
     * local speech service; the watchdog leaves it down until `fwconsole start`.
     */
    public function stopFreepbx($output = null): void
    {
        $this->speech()->stop(self::writer($output));
    }

    /**
     * Runs bin/apicall-speech ACTION (install, start, stop, restart, status, watchdog,
     * remove) for `fwconsole apicall:speech` and uninstall(). $onLine gets each line of its
     * output as it comes. Returns [exit status, the output]; status exits 0 running,
     * 1 not answering, 3 stopped, 4 not installed.
     */
    public function runSpeech(string $action, ?callable $onLine = null): array
    {
        return $this->speech()->run($action, $onLine);
    }

    /**
     * The every-minute job's watchdog (Job.php): restarts the local service when it is in
     * use, not stopped on purpose and not answering. Returns [ok, output]; the output is
     * empty when there was nothing to do.
     */
    public function speechWatchdog(): array
    {
        return $this->speech()->watchdog();
    }

    private function speech(): \Apicall\SpeechService
    {
        require_once __DIR__ . '/includes/speech.php';
        return new \Apicall\SpeechService(
            __DIR__ . '/' . self::SPEECH_SCRIPT,
            [
                'tts_provider' => $this->getSetting('tts_provider'),
                'stt_provider' => $this->getSetting('stt_provider'),
                'stt_url' => $this->getSetting('stt_url'),
            ],
            [
                'ASTVARLIBDIR' => $this->amp('ASTVARLIBDIR', '/var/lib/asterisk'),
                'ASTLOGDIR' => $this->amp('ASTLOGDIR', '/var/log/asterisk'),
                'AMPASTERISKUSER' => $this->amp('AMPASTERISKUSER', 'asterisk'),
            ]
        );
    }

    /** A function writing lines to a Symfony output (or the install output). */
    private static function writer($output): callable
    {
        return static function (string $text) use ($output): void {
            foreach (explode("\n", rtrim($text)) as $line) {
                if ($line === '') {
                    continue;
                }
                if (is_object($output) && method_exists($output, 'writeln')) {
                    $output->writeln($line, 2 /* OutputInterface::OUTPUT_RAW */);
                } else {
                    self::say($line);
                }
            }
        };
    }

    // ---------------------------------------------------------- command-line tool

    /**
     * Runs the command-line tool (includes/cli.php) with $args after `--config -`, the
     * module's settings as JSON on its stdin. Returns [exit status, stdout (its JSON),
     * stderr]; exit 127 and a message when the tool is missing.
     *
     * @param string[] $args
     */
    public function runCli(array $args, float $timeout = 120.0): array
    {
        require_once __DIR__ . '/includes/cli.php';
        return (new \Apicall\CommandLineTool(__DIR__))->run($args, fn (): array => $this->getSettings(), $timeout);
    }

    // ------------------------------------------------------------ calls, status

    /**
     * The latest calls of apicall_calls, newest first: id, created, kind, tocall, status,
     * outcome, attempts, duration (seconds answered, or null), last_webhook.
     */
    public function recentCalls(int $limit = 20): array
    {
        $sql = 'SELECT `id`, `created`, `kind`, `tocall`, `status`, `outcome`, `attempts`, `answered_at`, `ended_at`, `last_webhook`,'
            . ' TIMESTAMPDIFF(SECOND, `answered_at`, `ended_at`) AS `duration`'
            . ' FROM `apicall_calls` ORDER BY `created` DESC, `id` LIMIT ' . max(1, min(500, $limit));
        $rows = $this->FreePBX->Database->query($sql)->fetchAll(\PDO::FETCH_ASSOC);
        foreach ($rows as &$row) {
            $row['duration'] = $row['duration'] === null ? null : (int) $row['duration'];
            $row['attempts'] = (int) $row['attempts'];
        }
        return $rows;
    }

    /**
     * Places a test call from the shell (fwconsole apicall:call) through the extension,
     * as index.php would. Returns the extension's answer (id, status, ...).
     */
    public function placeTestCall(string $number, ?string $message, array $more = []): array
    {
        if (!function_exists('Apicall\\originate')) {
            throw new \RuntimeException(_('the apicall PHP extension is not loaded in this PHP'));
        }
        $body = ['tocall' => $number] + ($message !== null ? ['message' => $message] : []) + $more;
        return \Apicall\originate($this->coreConfig(), (string) json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    }

    /**
     * Delivers the status events due in the outbox for at most $seconds (Job.php, fwconsole
     * apicall:outbox). Returns the extension's summary (delivered, failed, expired, pending).
     */
    public function deliverOutbox(int $seconds): array
    {
        if (!function_exists('Apicall\\outbox_deliver')) {
            throw new \RuntimeException(_('the apicall PHP extension is not loaded in this PHP'));
        }
        return \Apicall\outbox_deliver($this->coreConfig(), $seconds);
    }

    /**
     * The checks of `fwconsole apicall:status`: a list of [name, ok, detail] for the
     * extension, Asterisk (AMI login), the database, the public folder, the token, the
     * local speech service and every configured speech provider.
     */
    public function statusReport(): array
    {
        require_once __DIR__ . '/includes/probe.php';
        $checks = [];
        $ext = $this->extensionState();
        $checks[] = ['PHP extension', $ext['ok'], $ext['loaded']
            ? sprintf('apicall %s loaded (module %s)', $ext['version'], self::VERSION) . ($ext['ok'] ? '' : ': ' . $ext['reason'] . '; fix: ' . $ext['fix'])
            : $ext['reason'] . ($ext['fix'] !== '' ? '; fix: ' . $ext['fix'] : '')];

        [$ok, $detail] = \Apicall\Probe::ami(
            $this->amp('ASTMANAGERHOST', 'localhost'),
            (int) $this->amp('ASTMANAGERPORT', '5038'),
            $this->amp('AMPMGRUSER', 'admin'),
            $this->amp('AMPMGRPASS', '')
        );
        $checks[] = ['Asterisk', $ok, $detail];

        try {
            $n = (int) $this->FreePBX->Database->query('SELECT COUNT(*) FROM `apicall_calls`')->fetchColumn();
            $checks[] = ['Database', true, sprintf('%s: apicall_calls holds %d calls', $this->amp('AMPDBNAME', 'asterisk'), $n)];
        } catch (\Throwable $e) {
            $checks[] = ['Database', false, $e->getMessage()];
        }

        $dir = $this->publicDir();
        $missing = array_filter(self::PUBLIC_FILES, static fn ($f) => !is_file("$dir/$f"));
        $checks[] = ['Public folder', $missing === [], $missing === []
            ? sprintf('%s publishes %s', $dir, implode(', ', self::PUBLIC_FILES))
            : sprintf('%s lacks %s: reinstall the module', $dir, implode(', ', $missing))];

        $token = $this->getToken();
        $checks[] = ['Token', (bool) preg_match('/^[0-9a-f]{64}$/D', $token), $token !== ''
            ? 'set (' . substr($token, 0, 4) . '...)' : 'missing: reinstall the module'];

        [$speechOk, $detail] = $this->speech()->check();
        $checks[] = ['Speech service', $speechOk, $detail];

        $providers = [];
        foreach (['tts_provider' => 'text to speech', 'stt_provider' => 'speech to text'] as $key => $what) {
            foreach (explode(',', $this->getSetting($key)) as $p) {
                $providers[trim($p)][] = $what;
            }
        }
        foreach ($providers as $p => $uses) {
            [$ok, $detail] = $this->providerCheck($p, $speechOk);
            $checks[] = ["Provider $p (" . implode(', ', $uses) . ')', $ok, $detail];
        }
        return $checks;
    }

    /** Configuration check of one speech provider (no request is sent to a cloud). */
    private function providerCheck(string $provider, bool $speechServiceOk): array
    {
        switch ($provider) {
            case 'local':
                return [$speechServiceOk, $speechServiceOk
                    ? 'the local speech service answers at ' . $this->getSetting('stt_url')
                    : 'the local speech service does not answer at ' . $this->getSetting('stt_url')];
            case 'google':
                return \Apicall\Probe::googleCredentials($this->getSetting('google_credentials_file'));
            case 'openai':
                $base = $this->getSetting('openai_base_url');
                $key = $this->getSetting('openai_api_key');
                if ($key === '' && parse_url($base, PHP_URL_HOST) === 'api.openai.com') {
                    return [false, "openai_api_key is empty ($base needs one)"];
                }
                return [true, $base . ($key !== '' ? ', API key set' : ', no API key')];
        }
        return [false, "unknown provider '$provider'"];
    }

    // -------------------------------------------------------------------- pages

    /** Outcome of the page's last POST: ['ok' => messages, 'errors' => setting => message, 'input' => values]. */
    private array $pageResult = ['ok' => [], 'errors' => [], 'input' => []];

    /**
     * config.php?display=apicall runs this before the page: handles the page's POSTs
     * (save the settings, regenerate the token or the webhook secret).
     */
    public function doConfigPageInit($page)
    {
        if ($page !== 'apicall' || strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? '')) !== 'POST') {
            return;
        }
        switch ((string) $this->getReq('action', '')) {
            case 'regenerate_token':
                $this->regenerateToken();
                $this->pageResult['ok'][] = _('A new token was created. The old token no longer works.');
                break;
            case 'regenerate_webhook_secret':
                $this->regenerateWebhookSecret();
                $this->pageResult['ok'][] = _('A new webhook signing secret was created.');
                break;
            case 'save':
                require_once __DIR__ . '/includes/settings.php';
                $input = [];
                foreach (array_keys(self::SETTING_DEFAULTS) as $key) {
                    if (isset($_POST[$key])) {
                        $input[$key] = $_POST[$key];
                    }
                }
                if (isset($_POST['clear_openai_api_key'])) {
                    unset($input['openai_api_key']);
                }
                $errors = $this->saveSettings($input);
                if ($errors === [] && isset($_POST['clear_openai_api_key'])) {
                    $this->delConfig('openai_api_key');
                }
                if ($errors === []) {
                    $this->pageResult['ok'][] = _('Settings saved.');
                } else {
                    $this->pageResult['errors'] = $errors;
                    $this->pageResult['input'] = array_diff_key($input, array_flip(\Apicall\Settings::SECRETS));
                }
                break;
        }
    }

    /** The action bar of the page: Submit and Reset for the settings form. */
    public function getActionBar($request)
    {
        if (($request['display'] ?? '') !== 'apicall') {
            return [];
        }
        return [
            'submit' => ['name' => 'submit', 'id' => 'submit', 'value' => _('Submit')],
            'reset' => ['name' => 'reset', 'id' => 'reset', 'value' => _('Reset')],
        ];
    }

    /** The right navigation: links to the page's sections. */
    public function getRightNav($request)
    {
        if (($request['display'] ?? '') !== 'apicall') {
            return '';
        }
        $html = load_view(__DIR__ . '/views/rnav.php', ['sections' => $this->pageSections()]);
        return is_string($html) ? $html : '';
    }

    /** Anchor => title of the page's sections. */
    private function pageSections(): array
    {
        require_once __DIR__ . '/includes/settings.php';
        $out = ['apicall-api' => _('Token and API'), 'apicall-extension' => _('PHP extension')];
        foreach (\Apicall\Settings::groups() as $id => [$title]) {
            $out["apicall-settings-$id"] = $title;
        }
        $out['apicall-calls'] = _('Recent calls');
        return $out;
    }

    /** Ajax commands of the page (authenticated admin sessions only). */
    public function ajaxRequest($req, &$setting)
    {
        return in_array($req, ['reveal_webhook_secret', 'recent_calls'], true);
    }

    public function ajaxHandler()
    {
        switch ((string) ($_REQUEST['command'] ?? '')) {
            case 'reveal_webhook_secret':
                return ['status' => true, 'value' => $this->getSetting('webhook_secret')];
            case 'recent_calls':
                return ['status' => true, 'calls' => $this->recentCalls()];
        }
        return ['status' => false, 'message' => 'unknown command'];
    }

    public function showPage(): string
    {
        require_once __DIR__ . '/includes/settings.php';
        $base = $this->publicUrl();
        $settings = $this->getSettings();
        foreach (\Apicall\Settings::SECRETS as $key) {
            $settings[$key] = \Apicall\Settings::mask($settings[$key]);
        }
        try {
            $calls = $this->recentCalls();
            $callsError = '';
        } catch (\Throwable $e) {
            $calls = [];
            $callsError = $e->getMessage();
        }
        $html = load_view(__DIR__ . '/views/main.php', [
            'token' => $this->getToken(),
            'endpoint' => $base . '/index.php',
            'aibotEndpoint' => $base . '/aibot.php',
            'cdrEndpoint' => $base . '/cdr.php',
            'settings' => array_merge($settings, $this->pageResult['input']),
            'groups' => \Apicall\Settings::groups(),
            'secrets' => \Apicall\Settings::SECRETS,
            'defaults' => self::SETTING_DEFAULTS,
            'messages' => $this->pageResult['ok'],
            'errors' => $this->pageResult['errors'],
            'extension' => $this->extensionState(),
            'calls' => $calls,
            'callsError' => $callsError,
            'version' => self::VERSION,
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
