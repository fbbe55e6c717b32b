<?php

/**
 * The BMO class as an admin meets it, on the stand-in FreePBX and the stack's MariaDB:
 * settings validated on the server (round trip, refusals, nothing stored when one value
 * is wrong), the page's POSTs (save, regenerate token / webhook secret), action bar and
 * right nav, the extension put into (a scratch copy of) PHP and taken out again, its
 * state and the reasons it does not load, Backup/Restore of the settings, recent calls
 * and the status report. Needs `make up`.
 *
 * Isolation: subclasses with their own kvstore tables, a scratch AMPWEBROOT,
 * ASTVARLIBDIR and ASTSPOOLDIR, a scratch "system" for the extension.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest {

    use FreePBX\modules\ApicallTest\Apicall as TestApicall;
    use FreePBX\modules\ApicallTest\ScratchSystemApicall;

    $webroot = tmpdir('apicall-webroot');
    $varlib = tmpdir('apicall-varlib');
    $spool = tmpdir('apicall-spool');
    bootstrap_stack([
        'AMPWEBROOT' => $webroot,
        'ASTSPOOLDIR' => $spool,
        'ASTVARLIBDIR' => $varlib,
    ]);
    require_once repo() . '/Apicall.class.php';
    require_once repo() . '/includes/settings.php';
    require_once __DIR__ . '/fixtures/TestApicall.php';
    require_once __DIR__ . '/fixtures/ScratchSystemApicall.php';

    $pdo = \FreePBX::Database();
    foreach (['kvstore_FreePBX_modules_ApicallTest_Apicall', 'kvstore_FreePBX_modules_ApicallTest_ScratchSystemApicall'] as $t) {
        $pdo->query("DROP TABLE IF EXISTS `$t`");
        cleanup(static function () use ($pdo, $t): void {
            $pdo->query("DROP TABLE IF EXISTS `$t`");
        });
    }

    function admin(): TestApicall
    {
        static $m = null;
        if ($m === null) {
            $m = new TestApicall(\FreePBX::create());
            $m->install();
        }
        return $m;
    }

    /** A stripped copy of the built extension (a debug build is ~150 MB), or null. */
    function shipped_so(): ?string
    {
        static $copy = false;
        if ($copy === false) {
            $so = extension_so();
            $copy = null;
            if ($so !== null) {
                $copy = tmpdir('apicall-so') . '/apicall.so';
                exec('strip --strip-unneeded -o ' . escapeshellarg($copy) . ' ' . escapeshellarg($so) . ' 2>&1', $out, $code);
                if ($code !== 0) {
                    copy($so, $copy);
                }
            }
        }
        return $copy;
    }

    /** A scratch system whose module ships the built extension: [module, root, .so]; skips without a build. */
    function scratch_shipping(): array
    {
        $so = shipped_so();
        if ($so === null) {
            skip('the extension is not built (target/debug/libapicall.so)');
        }
        $root = tmpdir('apicall-system');
        $m = scratch($root);
        $m->shipped = $so;
        return [$m, $root, $so];
    }

    function scratch(string $root): ScratchSystemApicall
    {
        $m = new ScratchSystemApicall(\FreePBX::create());
        $m->makeSystem($root);
        return $m;
    }

    /** Runs the page's request handling for a POST of $post and returns the page. */
    function post_page(TestApicall $m, array $post): string
    {
        $_SERVER['REQUEST_METHOD'] = 'POST';
        $_POST = $post;
        $_REQUEST = $post;
        $m->doConfigPageInit('apicall');
        $html = $m->showPage();
        $_SERVER['REQUEST_METHOD'] = 'GET';
        $_POST = $_REQUEST = [];
        return $html;
    }

    // ---------------------------------------------------------------- settings

    test('[stack] every setting round-trips through saveSettings() and coreConfig()', function (): void {
        $m = admin();
        $values = [
            'dial_context' => 'from-trunk', 'default_language' => 'en_US', 'default_callerid' => '"Acme Support" <+390612345>',
            'default_voice' => 'en+f3', 'public_url' => 'https://pbx.example.com/apicall', 'answer_url_lifetime' => '3600',
            'answer_retention_days' => '30', 'webhook_timeout' => '10', 'webhook_connect_timeout' => '3',
            'tts_provider' => 'google,local', 'stt_provider' => 'openai,local', 'stt_url' => 'http://127.0.0.1:9999',
            'stt_model' => 'whisper-base.en', 'google_credentials_file' => '/etc/asterisk/google.json',
            'google_stt_url' => 'http://127.0.0.1:9001/v1/speech:recognize', 'google_tts_url' => 'http://127.0.0.1:9001/v1/text:synthesize',
            'google_token_url' => 'http://127.0.0.1:9001/token', 'openai_base_url' => 'http://127.0.0.1:9002/v1',
            'openai_api_key' => 'sk-abc123', 'openai_tts_model' => 'gpt-4o-mini-tts', 'openai_tts_voice' => 'nova',
            'openai_stt_model' => 'whisper-1', 'webhook_secret' => str_repeat('s3cr3t-', 6), 'webhook_retries' => '3',
            'webhook_fallback_url' => 'https://fallback.example.com/status', 'status_event_ttl_hours' => '12',
            'max_concurrent_calls' => '5', 'token_failures_per_minute' => '20',
            'ip_allowlist' => '10.0.0.0/8,192.168.1.7,::1', 'allowed_hosts' => 'hooks.example.com,127.0.0.1',
        ];
        eq(array_keys(TestApicall::SETTING_DEFAULTS), array_keys($values), 'the test covers every setting');
        eq([], $m->saveSettings($values));
        $cfg = $m->coreConfig();
        foreach ($values as $k => $v) {
            eq($v, $cfg[$k], "coreConfig()[$k]");
        }
        eq([], $m->saveSettings(['ip_allowlist' => ' 10.0.0.0/8 , ::1 ', 'allowed_hosts' => 'Hooks.Example.COM', 'tts_provider' => 'LOCAL , google']));
        eq('10.0.0.0/8,::1', $m->getSetting('ip_allowlist'), 'lists are normalized');
        eq('hooks.example.com', $m->getSetting('allowed_hosts'));
        eq('local,google', $m->getSetting('tts_provider'));
        foreach (array_keys($values) as $k) {
            $m->delConfig($k);
        }
        $m->install(); // the webhook secret again
    });

    test('[stack] invalid values are refused with a message per field and nothing is stored', function (): void {
        $m = admin();
        $bad = [
            'dial_context' => 'from internal', 'default_language' => 'italian', 'default_callerid' => 'Acme <12a>',
            'default_voice' => 'a b', 'public_url' => 'https://pbx/apicall?x=1', 'answer_url_lifetime' => '0',
            'answer_retention_days' => '4000', 'webhook_timeout' => '121', 'webhook_connect_timeout' => 'x',
            'tts_provider' => 'local,espeak', 'stt_provider' => 'local,local', 'stt_url' => 'ftp://127.0.0.1/',
            'stt_model' => 'a b', 'google_credentials_file' => 'relative.json', 'google_stt_url' => 'javascript:alert(1)',
            'google_tts_url' => '', 'google_token_url' => 'http://user@host/', 'openai_base_url' => 'api.openai.com',
            'openai_api_key' => "sk key", 'openai_tts_model' => '', 'openai_tts_voice' => 'x;y',
            'openai_stt_model' => str_repeat('m', 200), 'webhook_secret' => 'short', 'webhook_retries' => '-1',
            'webhook_fallback_url' => 'mailto:a@b', 'status_event_ttl_hours' => '1.5', 'max_concurrent_calls' => '100001',
            'token_failures_per_minute' => '', 'ip_allowlist' => '10.0.0.0/33', 'allowed_hosts' => 'bad_host!',
        ];
        eq(array_keys(TestApicall::SETTING_DEFAULTS), array_keys($bad), 'one bad value per setting');
        $before = $m->getSettings();
        $errors = $m->saveSettings($bad);
        eq(array_keys($bad), array_keys($errors), 'every field refused');
        foreach ($errors as $k => $msg) {
            ok(is_string($msg) && $msg !== '', "message for $k");
        }
        eq($before, $m->getSettings(), 'nothing stored');
        $errors = $m->saveSettings(['dial_context' => 'from-trunk', 'webhook_timeout' => '3', 'webhook_connect_timeout' => '5']);
        eq(['webhook_connect_timeout'], array_keys($errors), 'connect timeout longer than the timeout');
        eq('from-internal', $m->getSetting('dial_context'), 'the valid value of a refused form is not stored either');
        eq(['dial_context'], array_keys($m->saveSettings(['dial_context' => "ctx\nexten => x"]) ), 'no line breaks into the dialplan');
        eq(['default_callerid'], array_keys($m->saveSettings(['default_callerid' => ['999']])), 'arrays refused');
        eq([], $m->saveSettings(['unknown_key' => 'x']), 'unknown keys are ignored');
        eq(false, $m->getConfig('unknown_key'));
    });

    // -------------------------------------------------------------------- page

    test('[stack] the page saves valid settings and shows refusals next to their fields, keeping the input', function (): void {
        $m = admin();
        $html = post_page($m, ['action' => 'save', 'dial_context' => 'from-trunk', 'webhook_timeout' => '9']);
        contains('Settings saved.', $html);
        eq('from-trunk', $m->getSetting('dial_context'));
        eq('9', $m->getSetting('webhook_timeout'));
        $html = post_page($m, ['action' => 'save', 'dial_context' => 'bad context', 'webhook_timeout' => '8', 'openai_api_key' => 'sk-typed-but-refused x']);
        contains('The settings were not saved.', $html);
        contains('<div class="form-group has-error">', $html);
        contains('id="dial_context-error"', $html);
        contains('value="bad context"', $html, 'the wrong value is shown to be corrected');
        ok(strpos($html, 'sk-typed-but-refused') === false, 'a refused secret is not echoed either');
        eq('from-trunk', $m->getSetting('dial_context'));
        eq('9', $m->getSetting('webhook_timeout'));
        $m->saveSettings(['openai_api_key' => 'sk-stored']);
        post_page($m, ['action' => 'save', 'openai_api_key' => '', 'clear_openai_api_key' => '1']);
        eq('', $m->getSetting('openai_api_key'), 'Clear removes the stored key');
        $m->delConfig('dial_context');
        $m->delConfig('webhook_timeout');
    });

    test('[stack] regenerate: a new token at once, a new webhook secret; GET requests change nothing', function (): void {
        $m = admin();
        $old = $m->getToken();
        $oldSecret = $m->getSetting('webhook_secret');
        $_SERVER['REQUEST_METHOD'] = 'GET';
        $_REQUEST = ['action' => 'regenerate_token'];
        $m->doConfigPageInit('apicall');
        $_REQUEST = [];
        eq($old, $m->getToken(), 'a GET never regenerates');
        $html = post_page($m, ['action' => 'regenerate_token']);
        ok(preg_match('/^[0-9a-f]{64}$/D', $m->getToken()) === 1 && $m->getToken() !== $old, 'new token');
        contains('The old token no longer works.', $html);
        contains('value="' . $m->getToken() . '"', $html);
        ok(strpos($html, $old) === false, 'the old token is gone from the page');
        post_page($m, ['action' => 'regenerate_webhook_secret']);
        ok(strlen($m->getSetting('webhook_secret')) === 64 && $m->getSetting('webhook_secret') !== $oldSecret, 'new webhook secret');
        contains('data-confirm=', $html, 'regenerating asks for confirmation');
    });

    test('[stack] action bar (Submit, Reset) and right nav on the module\'s page only', function (): void {
        $m = admin();
        eq([
            'submit' => ['name' => 'submit', 'id' => 'submit', 'value' => 'Submit'],
            'reset' => ['name' => 'reset', 'id' => 'reset', 'value' => 'Reset'],
        ], $m->getActionBar(['display' => 'apicall']));
        eq([], $m->getActionBar(['display' => 'other']));
        $nav = $m->getRightNav(['display' => 'apicall']);
        contains('<div class="list-group apicall-rnav">', $nav);
        $page = $m->showPage();
        preg_match_all('/href="#([a-z-]+)"/', $nav, $links);
        ok(count($links[1]) >= 6, 'links to the sections');
        foreach ($links[1] as $anchor) {
            contains('id="' . $anchor . '"', $page, "section $anchor exists");
        }
        eq('', $m->getRightNav(['display' => 'other']));
    });

    test('[stack] recent calls: time, number, outcome, duration, last webhook, newest first', function () use ($pdo): void {
        $ids = [bin2hex(random_bytes(16)), bin2hex(random_bytes(16))];
        cleanup(static function () use ($pdo, $ids): void {
            $pdo->prepare('DELETE FROM `apicall_calls` WHERE `id` IN (?, ?)')->execute($ids);
        });
        $ins = $pdo->prepare('INSERT INTO `apicall_calls` (`id`, `created`, `kind`, `tocall`, `request`, `status`, `outcome`, `attempts`, `answered_at`, `ended_at`, `last_webhook`)'
            . ' VALUES (?, ?, \'aibot\', ?, \'{}\', ?, ?, ?, ?, ?, ?)');
        $ins->execute([$ids[0], '2099-01-01 10:00:00', '200442', 'ended', 'answered', 1, '2099-01-01 10:00:05', '2099-01-01 10:00:47', 'next-message: 200 OK']);
        $ins->execute([$ids[1], '2099-01-01 09:00:00', '2002', 'ended', 'no-answer', 2, null, '2099-01-01 09:01:00', null]);
        $calls = admin()->recentCalls(2);
        eq([$ids[0], $ids[1]], array_column($calls, 'id'));
        eq(42, $calls[0]['duration']);
        eq(null, $calls[1]['duration'], 'never answered: no duration');
        $html = admin()->showPage();
        contains('<tr data-call="' . $ids[0] . '">', $html);
        contains('<td>2099-01-01 10:00:00</td>', $html);
        contains('<td>200442</td>', $html);
        contains('<td>answered</td>', $html);
        contains('<td>42 s</td>', $html);
        contains('<td>next-message: 200 OK</td>', $html);
        contains('<td>no-answer</td>', $html);
    });

    // --------------------------------------------------------------- extension

    test('enableExtension() as root: copies the .so, writes the ini, enables it for Apache and the CLI, restarts once', function (): void {
        [$m, $root, $so] = scratch_shipping();
        [$ok, $lines] = $m->enableExtension();
        eq(true, $ok, implode("\n", $lines));
        eq(hash_file('sha256', $so), hash_file('sha256', "$root/ext/apicall.so"), 'copied into the extension dir');
        eq(0644, fileperms("$root/ext/apicall.so") & 0777);
        eq("; The apicall module's PHP extension (FreePBX module API Call).\n; priority=30\nextension=apicall.so\n", file_get_contents("$root/etc/mods-available/apicall.ini"));
        foreach (['apache2', 'cli'] as $sapi) {
            eq('../../mods-available/apicall.ini', readlink("$root/etc/$sapi/conf.d/30-apicall.ini"), "enabled for $sapi");
        }
        eq(1, $m->restarts(), 'Apache restarted');
        [$ok, $lines] = $m->enableExtension();
        eq(true, $ok);
        contains('is installed and enabled', implode("\n", $lines));
        eq(1, $m->restarts(), 'nothing changed: no restart');
        $m->uninstall();
        ok(!file_exists("$root/ext/apicall.so") && !file_exists("$root/etc/mods-available/apicall.ini"), 'uninstall removes the .so and the ini');
        ok(!is_link("$root/etc/apache2/conf.d/30-apicall.ini") && !is_link("$root/etc/cli/conf.d/30-apicall.ini"), 'and the links');
        eq(2, $m->restarts(), 'Apache restarted after removal');
    });

    test('install() as root enables the shipped extension; without root it names the one command', function (): void {
        [$m, $root, $so] = scratch_shipping();
        $m->isRoot = false;
        ob_start();
        $m->install();
        $out = (string) ob_get_clean();
        contains('this install does not run as root. As root, run: fwconsole apicall:enable', $out);
        ok(!file_exists("$root/ext/apicall.so"), 'nothing installed without root');
        [$ok, $lines] = $m->enableExtension();
        eq(false, $ok);
        contains('needs root', implode("\n", $lines));
        $m->isRoot = true;
        ob_start();
        $m->install();
        $out = (string) ob_get_clean();
        contains('PHP extension 17.0.0 installed as ' . "$root/ext/apicall.so", $out);
        contains('Apache restarted', $out);
        $m->isRoot = false;
        ob_start();
        $m->install();
        contains('the PHP extension is installed and enabled', (string) ob_get_clean(), 'a later install without root sees it current');
        ob_start();
        $m->uninstall();
        contains('this uninstall does not run as root. As root, run: phpdismod -v 8.2 apicall', (string) ob_get_clean());
        ok(file_exists("$root/ext/apicall.so"), 'left for root to remove');
    });

    test('an extension that cannot load (libmp3lame0 missing) is refused with the fix', function (): void {
        $so = shipped_so();
        if ($so === null) {
            skip('the extension is not built (target/debug/libapicall.so)');
        }
        if (!is_executable('/usr/bin/patchelf')) {
            skip('patchelf is not installed');
        }
        $root = tmpdir('apicall-system');
        $bad = "$root/apicall-nolame.so";
        copy($so, $bad);
        exec('/usr/bin/patchelf --replace-needed libmp3lame.so.0 libmp3lame-missing.so.0 ' . escapeshellarg($bad) . ' 2>&1', $out, $code);
        eq(0, $code, implode("\n", $out));
        $m = scratch($root);
        $m->shipped = $bad;
        [$ok, $lines] = $m->enableExtension();
        eq(false, $ok);
        contains('libmp3lame-missing.so.0: cannot open shared object file', implode("\n", $lines));
        contains('Fix: apt-get install libmp3lame0', implode("\n", $lines));
        ok(!file_exists("$root/ext/apicall.so"), 'not installed');
        // The state of a PHP without the extension names the same cause.
        copy($bad, "$root/ext/apicall.so");
        $state = $m->extensionState();
        eq(false, $state['ok']);
        contains('libmp3lame-missing.so.0', $state['reason']);
        eq('as root: apt-get install libmp3lame0', $state['fix']);
    });

    test('extensionState(): loaded and matching, wrong version, and each reason it is not loaded', function (): void {
        $root = tmpdir('apicall-system');
        $m = scratch($root);
        $m->loaded = TestApicall::VERSION;
        $s = $m->extensionState();
        eq([true, true, TestApicall::VERSION, ''], [$s['ok'], $s['loaded'], $s['version'], $s['reason']]);
        $m->loaded = '16.9.9';
        $s = $m->extensionState();
        eq(false, $s['ok']);
        contains('does not match module', $s['reason']);
        $m->loaded = null;
        $s = $m->extensionState();
        eq(false, $s['ok']);
        contains("there is no $root/ext/apicall.so", $s['reason']);
        contains('fwconsole apicall:enable', $s['fix']);
        $so = shipped_so();
        if ($so === null) {
            return;
        }
        $m->shipped = $so;
        contains('not installed in', $m->extensionState()['reason']);
        copy($so, "$root/ext/apicall.so");
        contains('not enabled for PHP cli', $m->extensionState()['reason']);
        symlink('../../mods-available/apicall.ini', "$root/etc/cli/conf.d/30-apicall.ini");
        file_put_contents("$root/etc/mods-available/apicall.ini", "extension=apicall.so\n");
        eq('as root: systemctl restart apache2', $m->extensionState()['fix'], 'enabled but this PHP started before');
        $html = $m->showPage();
        contains('apicall-extension-alert', $html, 'the page shows the red notice');
        contains('fwconsole apicall:status', $html);
    });

    // ------------------------------------------------------------------ install

    test('[stack] install() creates the webhook secret once; uninstall() removes the speech cache and the AGI configuration, keeps answers', function () use ($varlib, $spool): void {
        $m = admin();
        $secret = $m->getSetting('webhook_secret');
        ok(preg_match('/^[0-9a-f]{64}$/D', $secret) === 1, 'webhook secret: 64 hex');
        $m->setConfig('webhook_secret', 'an-admin-chosen-secret-of-enough-length');
        $m->install();
        eq('an-admin-chosen-secret-of-enough-length', $m->getSetting('webhook_secret'), 'reinstall keeps an admin\'s secret');
        mkdir("$varlib/sounds/apicall/tts", 0755, true);
        file_put_contents("$varlib/sounds/apicall/tts/x.wav", 'RIFF');
        mkdir("$spool/apicall/answers", 0755, true);
        file_put_contents("$spool/apicall/answers/a.mp3", 'ID3');
        file_put_contents("$spool/apicall/agi-config.json", '{}');
        ob_start();
        $m->uninstall();
        ob_end_clean();
        ok(!file_exists("$varlib/sounds/apicall"), 'TTS cache removed');
        ok(!file_exists("$spool/apicall/agi-config.json"), 'the configuration the AGI processes keep (secrets) removed');
        ok(is_file("$spool/apicall/answers/a.mp3"), 'recorded answers kept');
        eq([], $m->getAll(), 'kvstore emptied');
        $m->install();
    });

    // ------------------------------------------------------------ backup/restore

    test('[stack] Backup.php and Restore.php carry the settings, the token and the URL secret', function (): void {
        require_once repo() . '/tests/freepbx/lib/Backup.php';
        require_once repo() . '/Backup.php';
        require_once repo() . '/Restore.php';
        $m = admin();
        $m->saveSettings(['dial_context' => 'from-backup', 'openai_api_key' => 'sk-backup']);
        $token = $m->getToken();
        $url = $m->getUrlSecret();
        $bmo = new \stdClass();
        $bmo->Apicall = $m;
        $backup = new \FreePBX\modules\Apicall\Backup($bmo, '17.0.1');
        $backup->runBackup('job-1', 'tx-1');
        $data = json_decode((string) json_encode($backup->getData()), true); // as the backup file carries it
        eq(TestApicall::VERSION, $data['configs']['version']);
        eq('from-backup', $data['configs']['settings']['dial_context']);
        eq($token, $data['configs']['settings']['token']);

        $m->deleteAll();
        eq('', $m->getToken());
        $data['configs']['settings']['evil_key'] = 'x';
        $data['configs']['settings']['url_secret'] = $url;
        $restore = new \FreePBX\modules\Apicall\Restore($bmo, '17.0.1', $data, '/tmp');
        $restore->runRestore();
        eq($token, $m->getToken(), 'token restored');
        eq($url, $m->getUrlSecret(), 'url secret restored');
        eq('from-backup', $m->getSetting('dial_context'));
        eq('sk-backup', $m->getSetting('openai_api_key'));
        eq(false, $m->getConfig('evil_key'), 'unknown keys are not restored');
        eq([], $m->restoreSettings(['token' => 'not-hex', 'dial_context' => ['x'], 'webhook_timeout' => '9999',
            'default_callerid' => "1\nChannel: x"]), 'malformed and invalid values skipped');
        eq(['dial_context'], $m->restoreSettings(['dial_context' => 'from-restored', 'openai_api_key' => '']), 'an empty secret is not restored over the stored one');
        $m->delConfig('dial_context');
        $m->delConfig('openai_api_key');
    });

    // ------------------------------------------------------------------ status

    test('[stack] statusReport(): Asterisk over AMI, database, speech service, providers, each OK or why', function (): void {
        $m = admin();
        $checks = [];
        foreach ($m->statusReport() as [$name, $ok, $detail]) {
            $checks[$name] = [$ok, $detail];
        }
        eq(['PHP extension', 'Asterisk', 'Database', 'Public folder', 'Token', 'Speech service', 'Provider local (text to speech, speech to text)'], array_keys($checks));
        eq(true, $checks['Asterisk'][0], $checks['Asterisk'][1]);
        contains('Asterisk 22', $checks['Asterisk'][1]);
        eq(true, $checks['Database'][0], $checks['Database'][1]);
        eq(true, $checks['Public folder'][0], $checks['Public folder'][1]);
        eq(true, $checks['Token'][0]);
        $m->saveSettings(['stt_url' => 'http://127.0.0.1:' . free_port(), 'tts_provider' => 'google,openai,local',
            'google_credentials_file' => '/nonexistent/google.json']);
        $checks = [];
        foreach ($m->statusReport() as [$name, $ok, $detail]) {
            $checks[$name] = [$ok, $detail];
        }
        eq(false, $checks['Speech service'][0]);
        contains('Connection refused', $checks['Speech service'][1]);
        eq([false, '/nonexistent/google.json does not exist'], $checks['Provider google (text to speech)']);
        eq([false, 'openai_api_key is empty (https://api.openai.com needs one)'], $checks['Provider openai (text to speech)']);
        eq(false, $checks['Provider local (text to speech, speech to text)'][0]);
        $dir = tmpdir('apicall-google');
        file_put_contents("$dir/key.json", json_encode(['type' => 'service_account', 'client_email' => 'tts@proj.iam.gserviceaccount.com', 'private_key' => '-----BEGIN PRIVATE KEY-----']));
        $m->saveSettings(['google_credentials_file' => "$dir/key.json", 'openai_api_key' => 'sk-x']);
        $checks = [];
        foreach ($m->statusReport() as [$name, $ok, $detail]) {
            $checks[$name] = [$ok, $detail];
        }
        eq(true, $checks['Provider google (text to speech)'][0], $checks['Provider google (text to speech)'][1]);
        eq(true, $checks['Provider openai (text to speech)'][0]);
        foreach (['stt_url', 'tts_provider', 'google_credentials_file', 'openai_api_key'] as $k) {
            $m->delConfig($k);
        }
        $amp = &$GLOBALS['amp_conf'];
        $saved = $amp['AMPMGRPASS'];
        $amp['AMPMGRPASS'] = 'wrong';
        $m->FreePBX->Config->set('AMPMGRPASS', 'wrong');
        $ami = $m->statusReport()[1];
        $amp['AMPMGRPASS'] = $saved;
        $m->FreePBX->Config->set('AMPMGRPASS', $saved);
        eq(false, $ami[1]);
        contains('login as ' . stack_env()['AMI_USER'] . ' failed: Authentication failed', $ami[2]);
    });
}
