<?php

/**
 * The BMO class on the stand-in FreePBX and the stack's MariaDB: token lifecycle,
 * public folder, settings, coreConfig(), page. Needs `make up`: fails without it.
 *
 * Isolation from the running stack: a subclass (so its own kvstore table,
 * kvstore_FreePBX_modules_ApicallTest_Apicall) and a temporary AMPWEBROOT.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest {

    use FreePBX\modules\ApicallTest\Apicall as TestApicall;

    const BMO_TABLE = 'kvstore_FreePBX_modules_ApicallTest_Apicall';

    $webroot = tmpdir('apicall-webroot');
    $spool = tmpdir('apicall-spool');
    bootstrap_stack([
        'AMPWEBROOT' => $webroot,
        'ASTSPOOLDIR' => $spool . '/',
        'ASTVARLIBDIR' => '/srv/astlib/',
        'LAUNCH_AGI_AS_FASTAGI' => '0',
    ]);
    require_once repo() . '/Apicall.class.php';
    require_once __DIR__ . '/fixtures/TestApicall.php';

    $pdo = \FreePBX::Database();
    $pdo->query('DROP TABLE IF EXISTS `' . BMO_TABLE . '`');
    cleanup(static function () use ($pdo): void {
        $pdo->query('DROP TABLE IF EXISTS `' . BMO_TABLE . '`');
    });

    function module(): TestApicall
    {
        static $m = null;
        return $m ??= new TestApicall(\FreePBX::create());
    }

    function stored_token(string $key = 'token'): ?string
    {
        try {
            $v = \FreePBX::Database()->query('SELECT `val` FROM `' . BMO_TABLE . '` WHERE `key` = ' . \FreePBX::Database()->quote($key) . " AND `id` = 'noid'")->fetchColumn();
        } catch (\PDOException $e) {
            if ($e->getCode() === '42S02') {
                return null; // the table does not exist yet
            }
            throw $e;
        }
        return $v === false ? null : (string) $v;
    }

    test('[stack] the module\'s own table is kvstore_FreePBX_modules_Apicall', function (): void {
        eq('kvstore_FreePBX_modules_Apicall', \FreePBX\DB_Helper::getTableName(new \FreePBX\modules\Apicall(\FreePBX::create())));
        eq(BMO_TABLE, \FreePBX\DB_Helper::getTableName(module()));
    });

    test('[stack] install() creates a 64-hex token and the public folder of symlinks', function () use ($webroot): void {
        eq(null, stored_token(), 'no token before install');
        module()->install();
        $token = stored_token();
        ok($token !== null && preg_match('/^[0-9a-f]{64}$/', $token) === 1, 'token is 64 lowercase hex: ' . var_export($token, true));
        eq($token, module()->getToken());
        $row = \FreePBX::Database()->query('SELECT `type`, `id` FROM `' . BMO_TABLE . "` WHERE `key` = 'token'")->fetch(\PDO::FETCH_ASSOC);
        eq(['type' => null, 'id' => 'noid'], $row, 'stored as a plain value, id noid (what the core reads)');
        $dir = "$webroot/apicall";
        ok(is_dir($dir) && !is_link($dir), 'apicall/ is a real folder');
        $entries = array_values(array_diff(scandir($dir), ['.', '..']));
        sort($entries);
        eq(['aibot.php', 'answer.php', 'cdr.php', 'index.php'], $entries, 'only the four entry points');
        foreach ($entries as $e) {
            ok(is_link("$dir/$e"), "$e is a symlink");
            eq(realpath(repo() . "/$e"), realpath("$dir/$e"), "$e points to the module's file");
        }
    });

    test('[stack] install() creates the url_secret: 64 hex, plain value, not the token', function (): void {
        $secret = stored_token('url_secret');
        ok($secret !== null && preg_match('/^[0-9a-f]{64}$/', $secret) === 1, 'url_secret is 64 lowercase hex: ' . var_export($secret, true));
        ok($secret !== stored_token(), 'url_secret differs from the token');
        eq($secret, module()->getUrlSecret());
        eq($secret, module()->coreConfig()['url_secret'], 'coreConfig() passes it on');
        $row = \FreePBX::Database()->query('SELECT `type`, `id` FROM `' . BMO_TABLE . "` WHERE `key` = 'url_secret'")->fetch(\PDO::FETCH_ASSOC);
        eq(['type' => null, 'id' => 'noid'], $row, 'stored as a plain value, id noid (what the core reads)');
    });

    test('[stack] a second install() keeps the token and the url_secret', function (): void {
        $before = stored_token();
        $secret = stored_token('url_secret');
        module()->install();
        \FreePBX::resetStandIn();
        $fresh = new TestApicall(\FreePBX::create());
        $fresh->install();
        eq($before, stored_token());
        eq($before, $fresh->getToken());
        eq($secret, stored_token('url_secret'));
    });

    test('[stack] install() adds a missing url_secret and replaces a malformed one, keeping the token', function (): void {
        $token = stored_token();
        module()->delConfig('url_secret');
        eq('', module()->getUrlSecret(), 'no secret: empty string');
        eq('', module()->coreConfig()['url_secret']);
        module()->install();
        $secret = stored_token('url_secret');
        ok($secret !== null && preg_match('/^[0-9a-f]{64}$/', $secret) === 1, 'created on upgrade');
        module()->setConfig('url_secret', 'short');
        module()->install();
        ok(preg_match('/^[0-9a-f]{64}$/', (string) stored_token('url_secret')) === 1, 'malformed secret replaced');
        eq($token, stored_token(), 'token untouched');
    });

    test('[stack] install() replaces the original module\'s symlinked folder and stale links', function () use ($webroot): void {
        $dir = "$webroot/apicall";
        module()->uninstall();
        $old = tmpdir('old-module');
        file_put_contents("$old/index.php", '<?php');
        symlink($old, $dir);
        module()->install();
        ok(is_dir($dir) && !is_link($dir), 'legacy symlink replaced by a folder');
        symlink(repo() . '/Apicall.class.php', "$dir/Apicall.class.php");
        file_put_contents("$dir/README.txt", 'admin file');
        module()->install();
        ok(!file_exists("$dir/Apicall.class.php") && !is_link("$dir/Apicall.class.php"), 'stale link into the module removed');
        ok(is_file("$dir/README.txt"), 'a file the admin put there is kept');
        unlink("$dir/README.txt");
    });

    test('[stack] uninstall() removes the token, the url_secret and the public folder', function () use ($webroot): void {
        module()->install();
        ok(stored_token() !== null, 'token present before uninstall');
        ok(stored_token('url_secret') !== null, 'url_secret present before uninstall');
        module()->uninstall();
        eq(null, stored_token(), 'token row deleted');
        eq(null, stored_token('url_secret'), 'url_secret row deleted');
        \FreePBX::resetStandIn();
        $fresh = new TestApicall(\FreePBX::create());
        eq('', $fresh->getToken());
        eq(false, $fresh->getConfig('token'));
        ok(!file_exists("$webroot/apicall"), 'public folder removed');
        $fresh->uninstall();
        eq(null, stored_token(), 'uninstall twice is harmless');
        $fresh->install();
        ok(stored_token() !== null, 'reinstall creates a new token');
        ok(stored_token('url_secret') !== null, 'and a new url_secret');
    });

    test('[stack] uninstall() leaves files in the public folder that are not its links', function () use ($webroot): void {
        $dir = "$webroot/apicall";
        module()->install();
        file_put_contents("$dir/README.txt", 'admin file');
        module()->uninstall();
        eq(['README.txt'], array_values(array_diff(scandir($dir), ['.', '..'])), 'the four links removed, the admin file kept');
        unlink("$dir/README.txt");
        module()->install();
    });

    test('[stack] settings have defaults and read the kvstore', function (): void {
        $m = module();
        $m->delConfig('dial_context');
        $m->delConfig('default_language');
        $m->delConfig('default_callerid');
        eq('from-internal', $m->getDialContext());
        eq('it', $m->getDefaultLanguage());
        eq('999', $m->getDefaultCallerId());
        $m->setConfig('dial_context', 'from-trunk');
        $m->setConfig('default_language', 'en');
        $m->setConfig('default_callerid', '0212345');
        eq('from-trunk', $m->getDialContext());
        eq('en', $m->getDefaultLanguage());
        eq('0212345', $m->getDefaultCallerId());
        $m->setConfig('dial_context', '');
        eq('from-internal', $m->getDialContext(), 'empty means default');
        throws(static fn () => $m->getSetting('nope'), \InvalidArgumentException::class);
    });

    test('[stack] the aibot settings have the contract\'s defaults and read the kvstore', function (): void {
        $m = module();
        $defaults = [
            'public_url' => '',
            'answer_url_lifetime' => '86400',
            'answer_retention_days' => '7',
            'webhook_timeout' => '5',
            'webhook_connect_timeout' => '2',
            'stt_provider' => 'local',
            'stt_url' => 'http://127.0.0.1:8765',
            'stt_model' => 'whisper-tiny.en',
        ];
        foreach ($defaults as $key => $default) {
            $m->delConfig($key);
            eq($default, $m->getSetting($key), "default of $key");
        }
        $m->setConfig('webhook_timeout', 8);
        eq('8', $m->getSetting('webhook_timeout'), 'a number stored by an admin tool is read as a string');
        $m->setConfig('stt_model', 'whisper-base');
        eq('whisper-base', $m->coreConfig()['stt_model']);
        foreach (array_keys($defaults) as $key) {
            $m->delConfig($key);
        }
    });

    test('[stack] public_url: the setting wins, else \'\' on the CLI (AGI)', function (): void {
        $m = module();
        $m->delConfig('public_url');
        $_SERVER['HTTP_HOST'] = 'pbx.example.com';
        eq('', $m->getPublicUrl(), 'CLI: no request to derive it from');
        eq('', $m->coreConfig()['public_url']);
        $m->setConfig('public_url', 'https://pbx.example.com/freepbx/apicall/');
        eq('https://pbx.example.com/freepbx/apicall', $m->coreConfig()['public_url'], 'setting, without the trailing slash');
        $m->delConfig('public_url');
        unset($_SERVER['HTTP_HOST']);
    });

    test('[stack] coreConfig() builds the contract\'s $config (all strings)', function () use ($spool): void {
        $m = module();
        $m->delConfig('dial_context');
        $m->delConfig('default_language');
        $m->delConfig('default_callerid');
        $amp = &$GLOBALS['amp_conf'];
        $saved = $amp;
        $amp['AMPDBHOST'] = '127.0.0.1';
        $amp['AMPDBPORT'] = '33061';
        $amp['AMPDBUSER'] = 'freepbxuser';
        $amp['AMPDBPASS'] = 'pw';
        $amp['AMPDBNAME'] = 'asterisk';
        $amp['AMPDBSOCK'] = '/run/x/mysqld.sock';
        $cfg = $m->coreConfig();
        eq([
            'db_host' => '127.0.0.1',
            'db_port' => '33061',
            'db_user' => 'freepbxuser',
            'db_pass' => 'pw',
            'db_name' => 'asterisk',
            'db_socket' => '/run/x/mysqld.sock',
            'spool_dir' => $spool,
            'tts_cache_dir' => '/srv/astlib/sounds/apicall/tts',
            'dial_context' => 'from-internal',
            'default_language' => 'it',
            'default_callerid' => '999',
            'cdr_db_name' => 'asteriskcdrdb',
            'public_url' => '',
            'url_secret' => module()->getUrlSecret(),
            'answers_dir' => $spool . '/apicall/answers',
            'answer_url_lifetime' => '86400',
            'answer_retention_days' => '7',
            'webhook_timeout' => '5',
            'webhook_connect_timeout' => '2',
            'stt_provider' => 'local',
            'stt_url' => 'http://127.0.0.1:8765',
            'stt_model' => 'whisper-tiny.en',
            'default_voice' => '',
            'tts_provider' => 'local',
            'google_credentials_file' => '/home/asterisk/google-auth.json',
            'google_stt_url' => 'https://speech.googleapis.com/v1/speech:recognize',
            'google_tts_url' => 'https://texttospeech.googleapis.com/v1/text:synthesize',
            'google_token_url' => 'https://oauth2.googleapis.com/token',
            'openai_base_url' => 'https://api.openai.com',
            'openai_api_key' => '',
            'openai_tts_model' => 'tts-1',
            'openai_tts_voice' => 'alloy',
            'openai_stt_model' => 'whisper-1',
            'webhook_secret' => module()->getSetting('webhook_secret'),
            'webhook_retries' => '8',
            'webhook_fallback_url' => '',
            'status_event_ttl_hours' => '48',
            'max_concurrent_calls' => '50',
            'token_failures_per_minute' => '10',
            'ip_allowlist' => '',
            'allowed_hosts' => '',
        ], $cfg);
        eq(CONFIG_KEYS, array_keys($cfg), 'the keys in the order the other tests expect');
        ok(preg_match('/^[0-9a-f]{64}$/', $cfg['url_secret']) === 1, 'url_secret present after install()');
        ok(preg_match('/^[0-9a-f]{64}$/', $cfg['webhook_secret']) === 1, 'webhook_secret present after install()');
        foreach ($cfg as $k => $v) {
            ok(is_string($v), "$k is a string");
        }

        unset($amp['AMPDBSOCK']);
        eq('', $m->coreConfig()['db_socket'], 'no socket for a TCP host');
        $amp['AMPDBHOST'] = 'localhost';
        eq((string) ini_get('pdo_mysql.default_socket'), $m->coreConfig()['db_socket'], 'localhost uses the default socket');
        unset($amp['AMPDBPORT'], $amp['AMPDBNAME']);
        eq('3306', $m->coreConfig()['db_port'], 'default port');
        eq('asterisk', $m->coreConfig()['db_name'], 'default database');
        $m->setConfig('default_callerid', '555');
        eq('555', $m->coreConfig()['default_callerid']);
        $m->delConfig('default_callerid');
        $m->FreePBX->Config->set('CDRDBNAME', 'othercdrdb');
        eq('othercdrdb', $m->coreConfig()['cdr_db_name'], 'CDRDBNAME');
        $m->FreePBX->Config->set('CDRDBNAME', '');
        eq('asteriskcdrdb', $m->coreConfig()['cdr_db_name'], 'default CDR database');
        $m->FreePBX->Config->set('CDRDBNAME', 'asteriskcdrdb');
        $amp = $saved;
    });

    test('requestBaseUrl() derives scheme://host/folder from a web request', function (): void {
        $f = static fn (array $server): string => TestApicall::requestBaseUrl($server);
        eq('http://127.0.0.1:8580/apicall', $f(['HTTP_HOST' => '127.0.0.1:8580', 'SCRIPT_NAME' => '/apicall/aibot.php']));
        eq('https://pbx.example.com/freepbx/apicall', $f(['HTTP_HOST' => 'pbx.example.com', 'HTTPS' => 'on', 'SCRIPT_NAME' => '/freepbx/apicall/cdr.php']));
        eq('http://pbx/apicall', $f(['HTTP_HOST' => 'pbx', 'HTTPS' => 'off', 'SCRIPT_NAME' => '/apicall/index.php']));
        eq('https://pbx/apicall', $f(['HTTP_HOST' => 'pbx', 'HTTP_X_FORWARDED_PROTO' => 'https', 'SCRIPT_NAME' => '/apicall/answer.php']));
        eq('http://pbx', $f(['HTTP_HOST' => 'pbx', 'SCRIPT_NAME' => '/aibot.php']), 'entry point at the web root');
        eq('http://pbx/freepbx/apicall', $f(['HTTP_HOST' => 'pbx', 'SCRIPT_NAME' => '/freepbx/admin/config.php']), 'admin page: apicall next to admin/');
        eq('http://pbx/apicall', $f(['HTTP_HOST' => 'pbx', 'SCRIPT_NAME' => '/other/thing.php']), 'anything else: /apicall');
        eq('http://[::1]:8580/apicall', $f(['HTTP_HOST' => '[::1]:8580', 'SCRIPT_NAME' => '/apicall/aibot.php']));
        foreach (['', 'evil.com/x', 'a b', 'host"><script>', 'host:port', "pbx\r\nX: y", "pbx\n", 'user@pbx'] as $bad) {
            eq('', $f(['HTTP_HOST' => $bad, 'SCRIPT_NAME' => '/apicall/aibot.php']), "Host header $bad refused");
        }
        eq('http://pbx/apicall', $f(['HTTP_HOST' => 'pbx', 'SCRIPT_NAME' => '/a"b/aibot.php']), 'odd script path: default folder');
        eq('http://pbx/apicall', $f(['HTTP_HOST' => 'pbx', 'SCRIPT_NAME' => '/../aibot.php']), 'dot-dot script path: default folder');
        eq('http://pbx/apicall', $f(['HTTP_HOST' => 'pbx', 'SCRIPT_NAME' => 'aibot.php']), 'relative script path: default folder');
        eq('http://pbx/apicall', $f(['HTTP_HOST' => 'pbx']), 'no script name: default folder');
    });

    test('[stack] the page shows the token, the URLs and ready-to-paste curl examples', function (): void {
        $m = module();
        $m->install();
        $_SERVER['HTTP_HOST'] = 'pbx.example.com';
        $_SERVER['HTTPS'] = 'on';
        $html = $m->showPage();
        contains('value="' . $m->getToken() . '"', $html, 'token field');
        contains('https://pbx.example.com/apicall/index.php', $html);
        contains('https://pbx.example.com/apicall/aibot.php', $html);
        contains('https://pbx.example.com/apicall/cdr.php', $html);
        contains("curl -s &#039;https://pbx.example.com/apicall/index.php&#039; \\\n  -H &#039;token: " . $m->getToken() . '&#039;', $html, 'curl example for index.php');
        contains('{&quot;tocall&quot;: &quot;200&quot;, &quot;message&quot;: &quot;Hello from API Call&quot;', $html);
        contains("curl -s &#039;https://pbx.example.com/apicall/aibot.php&#039;", $html, 'curl example for aibot.php');
        contains('&quot;PhoneNumber&quot;: &quot;200&quot;', $html);
        contains('value="whisper-tiny.en"', $html, 'settings shown');
        contains('value="from-internal"', $html);
        $m->setConfig('public_url', 'https://public.example.org/apicall');
        contains('https://public.example.org/apicall/aibot.php', $m->showPage(), 'the public_url setting wins');
        $m->delConfig('public_url');
        $_SERVER['HTTP_HOST'] = '"><script>';
        ok(strpos($m->showPage(), '"><script>') === false, 'host header is not echoed raw');
        unset($_SERVER['HTTP_HOST'], $_SERVER['HTTPS']);
    });

    test('[stack] the page offers every setting of contract-next.md, each with a label', function (): void {
        $html = module()->showPage();
        foreach (array_keys(TestApicall::SETTING_DEFAULTS) as $key) {
            contains('name="' . $key . '"', $html, "input for $key");
            contains('<label class="control-label" for="' . $key . '">', $html, "label for $key");
        }
        $fields = array_keys(\Apicall\Settings::fields());
        $settings = array_keys(TestApicall::SETTING_DEFAULTS);
        sort($fields);
        sort($settings);
        eq($settings, $fields, 'the page\'s fields are exactly the settings');
        contains('<form class="fpbx-submit', $html, 'the settings form is the one the action bar submits');
        contains('<input type="hidden" name="action" value="save">', $html);
    });

    test('[stack] secrets are never echoed back in full', function (): void {
        $m = module();
        $m->setConfig('openai_api_key', 'sk-test-0123456789abcdefWXYZ');
        $secret = $m->getSetting('webhook_secret');
        ok(strlen($secret) === 64, 'webhook secret installed');
        $html = $m->showPage();
        ok(strpos($html, 'sk-test-0123456789abcdefWXYZ') === false, 'API key not in the page');
        ok(strpos($html, $secret) === false, 'webhook secret not in the page');
        contains('WXYZ', $html, 'the last four characters identify the key');
        contains('type="password" class="form-control apicall-mono" id="openai_api_key" name="openai_api_key" value=""', $html);
        contains('type="password" class="form-control apicall-mono" id="webhook_secret" name="webhook_secret" value=""', $html);
        // An empty secret field keeps the stored one; a new value replaces it.
        eq([], $m->saveSettings(['openai_api_key' => '', 'webhook_secret' => '']));
        eq('sk-test-0123456789abcdefWXYZ', $m->getSetting('openai_api_key'));
        eq($secret, $m->getSetting('webhook_secret'));
        // Revealing the webhook secret is an explicit ajax request of the admin session.
        $setting = [];
        eq(true, $m->ajaxRequest('reveal_webhook_secret', $setting));
        eq(false, $m->ajaxRequest('anything_else', $setting));
        ok(!isset($setting['authenticate']), 'the ajax commands need an authenticated session');
        $_REQUEST['command'] = 'reveal_webhook_secret';
        eq(['status' => true, 'value' => $secret], $m->ajaxHandler());
        unset($_REQUEST['command']);
        $m->delConfig('openai_api_key');
    });

    test('[stack] FreePBX::Apicall() loads the installed module through BMO', function (): void {
        $active = \FreePBX::Modules()->getActiveModules();
        if (!isset($active['apicall'])) {
            fail('module apicall is not installed in the stack (make up runs tests/freepbx/tools/install-module.php)');
        }
        $amp = stack_amp_conf();
        ok(is_file($amp['AMPWEBROOT'] . '/admin/modules/apicall/Apicall.class.php'), 'module folder in the stack');
        ok(\FreePBX::Apicall() instanceof \FreePBX\modules\Apicall, 'BMO object');
    });

    test('[stack] ext_agi follows LAUNCH_AGI_AS_FASTAGI', function (): void {
        eq('AGI(apicall.php)', (new \ext_agi('apicall.php'))->output());
        \FreePBX::Config()->set('LAUNCH_AGI_AS_FASTAGI', true);
        eq('AGI(agi://127.0.0.1/apicall.php)', (new \ext_agi('apicall.php'))->output());
        eq('AGI(agi://10.0.0.1/x)', (new \ext_agi('agi://10.0.0.1/x'))->output());
        \FreePBX::Config()->set('LAUNCH_AGI_AS_FASTAGI', false);
    });

    test('[stack] tools: install-module, reload and uninstall-module on a scratch web root', function () use ($spool): void {
        $dir = tmpdir('apicall-tools');
        mkdir("$dir/www/admin/modules", 0755, true);
        mkdir("$dir/etc");
        mkdir("$dir/agi");
        // A copy of module.xml under another rawname keeps the stack's own module untouched.
        $mod = "$dir/www/admin/modules/apicalltoolstest";
        mkdir($mod);
        $xml = str_replace(
            ['<rawname>apicall</rawname>', '<table name="apicall_'],
            ['<rawname>apicalltoolstest</rawname>', '<table name="apicalltoolstest_'],
            (string) file_get_contents(repo() . '/module.xml')
        );
        ok(strpos($xml, 'name="apicall_') === false, 'no table of the real module left in the copy');
        file_put_contents("$mod/module.xml", $xml);
        file_put_contents("$mod/Apicalltoolstest.class.php", '<?php
namespace FreePBX\modules;
class Apicalltoolstest extends \FreePBX_Helpers implements \BMO {
    public function install() { $this->setConfig("installed", "yes"); }
    public function uninstall() { $this->deleteAll(); }
    public function backup() {}
    public function restore($backup) {}
    public static function myDialplanHooks() { return 400; }
    public function doDialplanHook(&$ext, $engine, $priority) {
        $ext->add("tools-test", "s", "", new \ext_noop("engine=$engine priority=$priority"));
    }
}');
        mkdir("$mod/agi-bin");
        file_put_contents("$mod/agi-bin/tools-test.php", "<?php\n");
        $amp = array_merge(stack_amp_conf(), [
            'AMPWEBROOT' => "$dir/www", 'ASTETCDIR' => "$dir/etc", 'ASTAGIDIR' => "$dir/agi", 'ASTSPOOLDIR' => $spool,
        ]);
        $conf = write_conf($dir, $amp);
        $run = static function (string $tool, string ...$args) use ($conf): array {
            $cmd = 'FREEPBX_CONF=' . escapeshellarg($conf) . ' ' . escapeshellarg(PHP_BINARY) . ' '
                . escapeshellarg(repo() . "/tests/freepbx/tools/$tool");
            foreach ($args as $a) {
                $cmd .= ' ' . escapeshellarg($a);
            }
            exec($cmd . ' 2>&1', $out, $code);
            return [$code, implode("\n", $out)];
        };
        $pdo = \FreePBX::Database();
        cleanup(static function () use ($pdo): void {
            foreach (['calls', 'outbox', 'auth_failures', 'idempotency'] as $t) {
                $pdo->query("DROP TABLE IF EXISTS `apicalltoolstest_$t`");
            }
            $pdo->query('DROP TABLE IF EXISTS `kvstore_FreePBX_modules_Apicalltoolstest`');
            $pdo->query("DELETE FROM `modules` WHERE `modulename` = 'apicalltoolstest'");
        });

        [$code, $out] = $run('install-module.php', 'apicalltoolstest');
        eq(0, $code, "install-module failed:\n$out");
        contains('table apicalltoolstest_calls created', $out);
        $cols = $pdo->query('SHOW COLUMNS FROM `apicalltoolstest_calls`')->fetchAll(\PDO::FETCH_ASSOC);
        eq(
            [
                ['id', 'char(32)', 'NO', 'PRI', null],
                ['created', 'datetime', 'NO', 'MUL', null],
                ['kind', 'varchar(16)', 'NO', '', null],
                ['tocall', 'varchar(64)', 'NO', '', null],
                ['request', 'mediumtext', 'NO', '', null],
                ['public_url', 'varchar(255)', 'YES', '', null],
                ['status', 'varchar(32)', 'NO', 'MUL', null],
                ['outcome', 'varchar(32)', 'YES', '', null],
                ['attempts', 'int(11)', 'NO', '', '0'],
                ['max_retries', 'int(11)', 'NO', '', '0'],
                ['uniqueid', 'varchar(64)', 'YES', '', null],
                ['linkedid', 'varchar(64)', 'YES', '', null],
                ['answered_at', 'datetime', 'YES', '', null],
                ['ended_at', 'datetime', 'YES', '', null],
                ['status_sent_at', 'datetime', 'YES', '', null],
                ['last_webhook', 'varchar(255)', 'YES', '', null],
            ],
            array_map(static fn ($c) => [$c['Field'], $c['Type'], $c['Null'], $c['Key'], $c['Default']], $cols),
            'module.xml table'
        );
        eq('yes', $pdo->query("SELECT `val` FROM `kvstore_FreePBX_modules_Apicalltoolstest` WHERE `key` = 'installed'")->fetchColumn());
        eq('1', (string) $pdo->query("SELECT `enabled` FROM `modules` WHERE `modulename` = 'apicalltoolstest'")->fetchColumn());
        [$code, $out] = $run('install-module.php', 'apicalltoolstest');
        eq(0, $code, "second install-module failed:\n$out");
        contains('table apicalltoolstest_calls exists, unchanged', $out);

        [$code, $out] = $run('reload.php');
        eq(0, $code, "reload failed:\n$out");
        $conf = (string) file_get_contents("$dir/etc/extensions_additional.conf");
        ok(strpos($conf, ";          Do NOT edit this file as it is auto-generated by FreePBX.             ;\n") !== false, 'FreePBX header');
        contains("[tools-test]\ninclude => tools-test-custom\nexten => s,1,Noop(engine=asterisk priority=400)\n\n;--== end of [tools-test] ==--;\n", $conf);
        contains("[from-internal-additional]\ninclude => from-internal-additional-custom\nexten => h,1,Hangup()\n", $conf);
        ok(is_file("$dir/agi/tools-test.php") && (fileperms("$dir/agi/tools-test.php") & 0777) === 0755, 'agi-bin copied with mode 755');

        [$code, $out] = $run('uninstall-module.php', 'apicalltoolstest');
        eq(0, $code, "uninstall-module failed:\n$out");
        eq(0, (int) $pdo->query("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'apicalltoolstest_calls'")->fetchColumn(), 'table dropped');
        eq(false, $pdo->query("SELECT `enabled` FROM `modules` WHERE `modulename` = 'apicalltoolstest'")->fetchColumn(), 'module removed from the list');
    });
}
