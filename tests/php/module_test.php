<?php

/**
 * The module's package-level facts: module.xml as FreePBX 17 reads it, one version
 * everywhere, every PHP file lint-clean, the public folder exposing only entry points.
 * No database needed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

load_framework_classes();
require_once repo() . '/Apicall.class.php';

function module_xml(): \SimpleXMLElement
{
    $xml = simplexml_load_file(repo() . '/module.xml');
    if ($xml === false) {
        fail('module.xml is not well-formed XML');
    }
    return $xml;
}

test('module.xml has the fields FreePBX 17 needs', function (): void {
    $x = module_xml();
    eq('module', $x->getName());
    eq('apicall', (string) $x->rawname);
    eq('API Call', (string) $x->name);
    eq('17.0.0', (string) $x->version);
    eq('GPLv3+', (string) $x->license);
    eq('Applications', (string) $x->category);
    ok(trim((string) $x->publisher) !== '', 'publisher');
    ok(trim((string) $x->description) !== '', 'description');
    ok((bool) preg_match('/\*17\.0\.0\*/', (string) $x->changelog), 'changelog has a *17.0.0* line');
    eq('API Call', (string) $x->menuitems->apicall, 'menu item -> page.apicall.php');
    ok(is_file(repo() . '/page.apicall.php'), 'page.apicall.php exists');
    eq('17.0', (string) $x->supported->version);
    eq('17.0', (string) $x->depends->version);
    eq('8.2', (string) $x->depends->phpversion);
});

/** The <field> attributes of a module.xml table, name => attributes (without name). */
function table_fields(\SimpleXMLElement $t): array
{
    $fields = [];
    foreach ($t->field as $f) {
        $attrs = [];
        foreach ($f->attributes() as $k => $v) {
            $attrs[(string) $k] = (string) $v;
        }
        $fields[$attrs['name']] = $attrs;
        unset($fields[$attrs['name']]['name']);
    }
    return $fields;
}

test('module.xml declares apicall_calls as contract-aibot says, with Doctrine types', function (): void {
    $tables = [];
    foreach (module_xml()->database->table as $t) {
        $tables[(string) $t['name']] = $t;
    }
    eq(['apicall_calls', 'apicall_outbox', 'apicall_auth_failures', 'apicall_idempotency'], array_keys($tables), 'the module\'s tables');
    $t = $tables['apicall_calls'];
    eq([
        'id' => ['type' => 'string', 'length' => '32', 'fixed' => 'true', 'primarykey' => 'true'],
        'created' => ['type' => 'datetime'],
        'kind' => ['type' => 'string', 'length' => '16'],
        'tocall' => ['type' => 'string', 'length' => '64'],
        'request' => ['type' => 'text', 'length' => '16777215'],
        'public_url' => ['type' => 'string', 'length' => '255', 'notnull' => 'false'],
        'status' => ['type' => 'string', 'length' => '32'],
        'outcome' => ['type' => 'string', 'length' => '32', 'notnull' => 'false'],
        'attempts' => ['type' => 'integer', 'default' => '0'],
        'max_retries' => ['type' => 'integer', 'default' => '0'],
        'uniqueid' => ['type' => 'string', 'length' => '64', 'notnull' => 'false'],
        'linkedid' => ['type' => 'string', 'length' => '64', 'notnull' => 'false'],
        'answered_at' => ['type' => 'datetime', 'notnull' => 'false'],
        'ended_at' => ['type' => 'datetime', 'notnull' => 'false'],
        'status_sent_at' => ['type' => 'datetime', 'notnull' => 'false'],
        'last_webhook' => ['type' => 'string', 'length' => '255', 'notnull' => 'false'],
    ], table_fields($t));
    eq('created', (string) $t->key[0]['name'], 'index on created (retention clean-up)');
});

test('module.xml declares the reliability tables the core uses (outbox, auth failures, idempotency)', function (): void {
    $tables = [];
    foreach (module_xml()->database->table as $t) {
        $tables[(string) $t['name']] = table_fields($t);
    }
    eq(['event_id', 'call_id', 'url', 'fallback_url', 'headers', 'body', 'created', 'next_attempt_at', 'attempts', 'last_error', 'delivered_at', 'expires_at'],
        array_keys($tables['apicall_outbox']));
    eq('true', $tables['apicall_outbox']['event_id']['primarykey'] ?? null, 'event_id is the key receivers deduplicate on');
    eq(['ip', 'minute', 'failures'], array_keys($tables['apicall_auth_failures']));
    eq(['idem_key', 'endpoint', 'response', 'status', 'created'], array_keys($tables['apicall_idempotency']));
    // Every table the core creates for itself (rust/core/src/schema.rs) must be one FreePBX drops on uninstall.
    $schema = repo() . '/rust/core/src/schema.rs';
    if (is_file($schema)) {
        preg_match_all('/CREATE TABLE IF NOT EXISTS `([a-z_]+)`/', (string) file_get_contents($schema), $m);
        eq([], array_values(array_diff($m[1], array_keys($tables))), 'tables of schema.rs missing from module.xml');
    }
});

test('module.xml declares the fwconsole commands, each with its Console class', function (): void {
    $commands = [];
    foreach (module_xml()->console->command as $c) {
        $commands[(string) $c->name] = (string) $c->class;
    }
    eq(['apicall:token' => 'ApicallToken', 'apicall:call' => 'ApicallCall', 'apicall:status' => 'ApicallStatus', 'apicall:enable' => 'ApicallEnable', 'apicall:outbox' => 'ApicallOutbox',
        'apicall:speech' => 'ApicallSpeech', 'apicall:tts' => 'ApicallTts', 'apicall:stt' => 'ApicallStt', 'apicall:providers' => 'ApicallProviders'], $commands);
    foreach ($commands as $name => $class) {
        $file = repo() . "/Console/$class.class.php";
        ok(is_file($file), "$file exists");
        $src = (string) file_get_contents($file);
        contains('namespace FreePBX\Console\Command;', $src, $file);
        contains("class $class extends Command", $src, $file);
        contains("setName('$name')", $src, "$file names the command as module.xml does");
        contains('use Symfony\Component\Console\Command\Command;', $src, $file);
        ok((bool) preg_match('/protected function execute\(InputInterface \$input, OutputInterface \$output\): int/', $src), "$file: execute() returns int (Symfony 5.4+)");
    }
});

test('module.xml hooks fwconsole start/stop to Apicall::startFreepbx/stopFreepbx, as FreePBX reads <hooks>', function (): void {
    $found = [];
    foreach (module_xml()->hooks->framework as $fw) {
        foreach ($fw->method as $m) {
            $found[(string) $fw['namespace'] . '\\' . (string) $fw['class'] . '::' . (string) $m['callingMethod']] =
                (string) $m['namespace'] . '\\' . (string) $m['class'] . '->' . (string) $m;
        }
    }
    eq([
        'FreePBX\\Console\\Command\\Start::postAsteriskHooks' => 'FreePBX\\modules\\Apicall->startFreepbx',
        'FreePBX\\Console\\Command\\Stop::preAsteriskHooks' => 'FreePBX\\modules\\Apicall->stopFreepbx',
    ], $found);
    $src = (string) file_get_contents(repo() . '/Apicall.class.php');
    ok((bool) preg_match('/public function startFreepbx\(\$output = null\): void/', $src), 'Apicall::startFreepbx($output)');
    ok((bool) preg_match('/public function stopFreepbx\(\$output = null\): void/', $src), 'Apicall::stopFreepbx($output)');
});

test('module.xml depends on FreePBX 17, PHP 8.2 and core', function (): void {
    $d = module_xml()->depends;
    eq('17.0', (string) $d->version);
    eq('8.2', (string) $d->phpversion);
    eq('core ge 17.0', (string) $d->module);
});

test('one version: module.xml, Apicall::VERSION and the extension', function (): void {
    eq((string) module_xml()->version, \FreePBX\modules\Apicall::VERSION);
    if (!function_exists('Apicall\\version')) {
        skip('extension not loaded in this PHP (set PHP_INI_SCAN_DIR as in .stack/env)');
    }
    eq(\FreePBX\modules\Apicall::VERSION, \Apicall\version());
});

test('every PHP file of the module and its tests passes php -l', function (): void {
    $files = array_merge(
        glob(repo() . '/*.php') ?: [],
        glob(repo() . '/includes/*.php') ?: [],
        glob(repo() . '/views/*.php') ?: [],
        glob(repo() . '/Console/*.php') ?: [],
        glob(repo() . '/agi-bin/*.php') ?: [],
        [repo() . '/tests/freepbx/fwconsole'],
        glob(repo() . '/tests/freepbx/*.php') ?: [],
        glob(repo() . '/tests/freepbx/*/*.php') ?: [],
        glob(repo() . '/tests/php/*.php') ?: [],
        glob(repo() . '/tests/php/fixtures/*.php') ?: []
    );
    ok(count($files) > 20, 'found the PHP files');
    $bad = [];
    foreach ($files as $f) {
        exec(escapeshellarg(PHP_BINARY) . ' -n -l ' . escapeshellarg($f) . ' 2>&1', $out, $code);
        if ($code !== 0) {
            $bad[] = $f . ': ' . implode(' ', $out);
        }
        $out = [];
    }
    eq([], $bad);
});

test('the entry points are the only public files', function (): void {
    eq(['index.php', 'aibot.php', 'cdr.php', 'answer.php'], \FreePBX\modules\Apicall::PUBLIC_FILES);
    eq(PUBLIC_FILES, \FreePBX\modules\Apicall::PUBLIC_FILES, 'tests/php/lib.php serves the same files');
    foreach (\FreePBX\modules\Apicall::PUBLIC_FILES as $f) {
        ok(is_file(repo() . "/$f"), "$f exists");
    }
});

test('the token is 64 lowercase hex characters with or without the extension', function (): void {
    $t = \FreePBX\modules\Apicall::newToken();
    ok(preg_match('/^[0-9a-f]{64}$/', $t) === 1, "token $t");
    ok($t !== \FreePBX\modules\Apicall::newToken(), 'tokens differ');
});

test('is_json_media_type() accepts JSON with a UTF-8 charset only', function (): void {
    require_once repo() . '/includes/public.php';
    foreach (['application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON;charset=UTF8', 'application/json; foo=bar'] as $ok) {
        eq(true, \Apicall\Web\is_json_media_type($ok), $ok);
    }
    foreach (['', 'text/json', 'application/json-patch+json', 'application/json; charset=latin1', 'text/plain; application/json'] as $no) {
        eq(false, \Apicall\Web\is_json_media_type($no), $no);
    }
});

test('i18n/apicall.pot holds every gettext string of the module', function (): void {
    if (!is_executable('/usr/bin/xgettext')) {
        skip('xgettext is not installed (package gettext)');
    }
    $out = tmpdir('apicall-pot') . '/now.pot';
    $files = array_merge(['Apicall.class.php', 'page.apicall.php'], glob(repo() . '/views/*.php'), glob(repo() . '/includes/*.php'), glob(repo() . '/Console/*.php'));
    $cmd = 'cd ' . escapeshellarg(repo()) . ' && xgettext --language=PHP --from-code=UTF-8 --keyword=_ --no-wrap -o ' . escapeshellarg($out);
    foreach ($files as $f) {
        $cmd .= ' ' . escapeshellarg(str_replace(repo() . '/', '', $f));
    }
    exec($cmd . ' 2>&1', $lines, $code);
    eq(0, $code, implode("\n", $lines));
    $ids = static function (string $pot): array {
        preg_match_all('/^msgid "(.+)"$/m', $pot, $m);
        sort($m[1]);
        return array_values(array_unique($m[1]));
    };
    $missing = array_values(array_diff($ids((string) file_get_contents($out)), $ids((string) file_get_contents(repo() . '/i18n/apicall.pot'))));
    eq([], $missing, 'regenerate i18n/apicall.pot (xgettext --language=PHP --keyword=_ ...)');
});
