<?php

/**
 * The stand-in's kvstore (FreePBX_Helpers getConfig/setConfig/...) against the
 * stack's real MariaDB, checked row by row against what FreePBX 17 stores (the Rust
 * core reads the same table directly). Needs `make up`: fails without it.
 *
 * A probe class is used, so its table (kvstore_ApicallTest_KvProbe) is the test's own.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

const PROBE_TABLE = 'kvstore_ApicallTest_KvProbe';

bootstrap_stack();
require_once repo() . '/Apicall.class.php';

class KvProbe extends \FreePBX_Helpers implements \BMO
{
    public function install()
    {
    }

    public function uninstall()
    {
    }

    public function backup()
    {
    }

    public function restore($backup)
    {
    }
}

class KvProbeWithDefaults extends KvProbe
{
    public static $dbDefaults = ['colour' => 'blue'];
}

$pdo = \FreePBX::Database();
$pdo->query('DROP TABLE IF EXISTS `' . PROBE_TABLE . '`');
$pdo->query('DROP TABLE IF EXISTS `kvstore_ApicallTest_KvProbeWithDefaults`');
cleanup(static function () use ($pdo): void {
    $pdo->query('DROP TABLE IF EXISTS `' . PROBE_TABLE . '`');
    $pdo->query('DROP TABLE IF EXISTS `kvstore_ApicallTest_KvProbeWithDefaults`');
});

function probe(): KvProbe
{
    static $p = null;
    return $p ??= new KvProbe(\FreePBX::create());
}

/** Rows of the probe table as the database holds them (not through the cache). */
function rows(string $where = '1=1'): array
{
    return \FreePBX::Database()->query('SELECT `key`, `val`, `type`, `id` FROM `' . PROBE_TABLE . "` WHERE $where ORDER BY `key`, `id`")
        ->fetchAll(\PDO::FETCH_ASSOC);
}

test('[stack] the table name is kvstore_ + class name with \\ turned into _', function (): void {
    eq('kvstore_ApicallTest_KvProbe', \FreePBX\DB_Helper::getTableName(probe()));
    eq('kvstore_FreePBX_modules_Apicall', \FreePBX\DB_Helper::getTableName(new \FreePBX\modules\Apicall(\FreePBX::create())));
});

test('[stack] a missing key reads as false and creates the table with FreePBX 17\'s schema', function (): void {
    eq(false, probe()->getConfig('nothing'));
    $cols = \FreePBX::Database()->query(
        "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT FROM information_schema.COLUMNS "
        . "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" . PROBE_TABLE . "' ORDER BY ORDINAL_POSITION"
    )->fetchAll(\PDO::FETCH_NUM);
    eq([
        ['key', 'char(255)', 'NO', null],
        ['val', 'varchar(4096)', 'YES', 'NULL'],
        ['type', 'char(16)', 'YES', 'NULL'],
        ['id', 'char(255)', 'YES', 'NULL'],
    ], $cols, 'columns');
    $idx = \FreePBX::Database()->query(
        "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
        . "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" . PROBE_TABLE . "' ORDER BY INDEX_NAME, SEQ_IN_INDEX"
    )->fetchAll(\PDO::FETCH_NUM);
    eq([
        ['idindex', 1, 'id', 190],
        ['keyindex', 1, 'key', 190],
        ['uniqueindex', 0, 'key', 190],
        ['uniqueindex', 0, 'id', 190],
    ], array_map(static fn ($r) => [$r[0], (int) $r[1], $r[2], (int) $r[3]], $idx), 'indexes');
});

test('[stack] a string is stored as given, type NULL, id noid', function (): void {
    probe()->setConfig('token', 'abc123');
    eq('abc123', probe()->getConfig('token'));
    eq([['key' => 'token', 'val' => 'abc123', 'type' => null, 'id' => 'noid']], rows("`key` = 'token'"));
    probe()->setConfig('token', 'def456');
    eq([['key' => 'token', 'val' => 'def456', 'type' => null, 'id' => 'noid']], rows("`key` = 'token'"), 'overwrite keeps one row');
});

test('[stack] arrays are json-arr, objects json-obj, numbers come back as strings', function (): void {
    probe()->setConfig('arr', ['a' => 1, 'b' => [true, null]]);
    probe()->setConfig('obj', (object) ['x' => 'y']);
    probe()->setConfig('num', 42);
    eq([
        ['key' => 'arr', 'val' => '{"a":1,"b":[true,null]}', 'type' => 'json-arr', 'id' => 'noid'],
        ['key' => 'num', 'val' => '42', 'type' => null, 'id' => 'noid'],
        ['key' => 'obj', 'val' => '{"x":"y"}', 'type' => 'json-obj', 'id' => 'noid'],
    ], rows("`key` IN ('arr','obj','num')"));
    \FreePBX::resetStandIn();
    \FreePBX::create();
    $fresh = new KvProbe(\FreePBX::create());
    eq(['a' => 1, 'b' => [true, null]], $fresh->getConfig('arr'));
    $obj = $fresh->getConfig('obj');
    ok($obj instanceof \stdClass && $obj->x === 'y', 'json-obj decodes to stdClass');
    eq('42', $fresh->getConfig('num'));
});

test('[stack] setting false deletes; delConfig deletes', function (): void {
    probe()->setConfig('gone', 'x');
    probe()->setConfig('gone', false);
    eq(false, probe()->getConfig('gone'));
    eq([], rows("`key` = 'gone'"));
    probe()->setConfig('gone2', 'x');
    probe()->delConfig('gone2');
    eq(false, probe()->getConfig('gone2'));
    eq([], rows("`key` = 'gone2'"));
});

test('[stack] ids group keys: getAll, getAllKeys, getAllids, getFirst/getLast, delById', function (): void {
    $p = probe();
    $p->setConfig('b', '2', 'grp');
    $p->setConfig('a', '1', 'grp');
    $p->setConfig('c', ['x'], 'grp');
    $p->setConfig('a', 'other', 'grp2');
    eq(['a' => '1', 'b' => '2', 'c' => ['x']], $p->getAll('grp'), 'getAll is ordered by key');
    eq(['a', 'b', 'c'], $p->getAllKeys('grp'));
    $ids = $p->getAllids();
    sort($ids);
    eq(['grp', 'grp2'], $ids, 'getAllids excludes noid');
    eq('a', $p->getFirst('grp'));
    eq('c', $p->getLast('grp'));
    eq(false, $p->getConfig('a'), 'the same key without id is another value');
    $p->delById('grp');
    eq([], $p->getAll('grp'));
    eq('other', $p->getConfig('a', 'grp2'));
    eq(['grp2'], $p->getAllids());
});

test('[stack] values over 4000 characters live in kvblobstore', function (): void {
    $p = probe();
    $big = str_repeat('0123456789', 450);
    $p->setConfig('big', $big);
    $row = rows("`key` = 'big'")[0];
    eq('blob', $row['type']);
    ok((bool) preg_match('/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', (string) $row['val']), 'val is a uuid v4');
    $blob = \FreePBX::Database()->query("SELECT `type`, `content` FROM `kvblobstore` WHERE `uuid` = '{$row['val']}'")->fetch(\PDO::FETCH_ASSOC);
    eq(['type' => null, 'content' => $big], $blob);
    \FreePBX::resetStandIn();
    $fresh = new KvProbe(\FreePBX::create());
    eq($big, $fresh->getConfig('big'));
    $bigArr = ['s' => $big];
    $fresh->setConfig('bigarr', $bigArr);
    \FreePBX::resetStandIn();
    eq($bigArr, (new KvProbe(\FreePBX::create()))->getConfig('bigarr'), 'a big array keeps its json-arr type in the blob');
    (new KvProbe(\FreePBX::create()))->setConfig('big', 'small now');
    eq(0, (int) \FreePBX::Database()->query("SELECT COUNT(*) FROM `kvblobstore` WHERE `uuid` = '{$row['val']}'")->fetchColumn(), 'old blob deleted');
    eq([['key' => 'big', 'val' => 'small now', 'type' => null, 'id' => 'noid']], rows("`key` = 'big'"));
    (new KvProbe(\FreePBX::create()))->delConfig('bigarr');
});

test('[stack] setMultiConfig stores every pair', function (): void {
    probe()->setMultiConfig(['m1' => 'one', 'm2' => ['two']], 'multi');
    eq(['m1' => 'one', 'm2' => ['two']], probe()->getAll('multi'));
});

test('[stack] dbDefaults answer for missing keys', function (): void {
    $p = new KvProbeWithDefaults(\FreePBX::create());
    eq('blue', $p->getConfig('colour'));
    $p->setConfig('colour', 'red');
    eq('red', $p->getConfig('colour'));
    eq(false, $p->getConfig('size'));
});

test('[stack] getConfig(null) and setConfig(null) throw', function (): void {
    throws(static fn () => probe()->getConfig(null));
    throws(static fn () => probe()->setConfig(null, 'x'));
});

test('[stack] deleteAll empties the table but keeps it', function (): void {
    $p = probe();
    $p->setConfig('k', 'v');
    $p->deleteAll();
    eq([], rows());
    eq(false, $p->getConfig('k'));
    $p->setConfig('k2', 'v2');
    eq('v2', $p->getConfig('k2'));
});

test('[stack] FreePBX::Config()->get(): settings yes, bootstrap-only DB values no', function (): void {
    $cfg = \FreePBX::Config();
    $amp = stack_amp_conf();
    eq(rtrim($amp['ASTSPOOLDIR'], '/'), rtrim((string) $cfg->get('ASTSPOOLDIR'), '/'));
    eq(false, $cfg->get('AMPDBUSER'), 'AMPDBUSER is not an Advanced Setting');
    eq(false, $cfg->get('AMPDBPASS'));
    eq(false, $cfg->get('NO_SUCH_SETTING'));
    eq($amp['AMPDBUSER'], $GLOBALS['amp_conf']['AMPDBUSER'], '$amp_conf keeps the bootstrap values');
});

test('[stack] the bootstrap throws like FreePBX when MariaDB is unreachable', function (): void {
    $dir = tmpdir();
    $conf = write_conf($dir, [
        'AMPDBUSER' => 'nobody', 'AMPDBPASS' => 'x', 'AMPDBHOST' => '127.0.0.1',
        'AMPDBPORT' => (string) free_port(), 'AMPDBNAME' => 'asterisk', 'AMPWEBROOT' => $dir,
    ]);
    $script = $dir . '/probe.php';
    file_put_contents($script, '<?php $bootstrap_settings = ["freepbx_error_handler" => false]; '
        . 'try { require ' . var_export($conf, true) . '; echo "BOOTSTRAPPED\n"; } '
        . 'catch (\Throwable $e) { echo get_class($e), "|", $e->getMessage(), "|", get_class($e->getPrevious()), "\n"; }');
    $out = (string) shell_exec(escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg($script) . ' 2>&1');
    ok(strpos($out, 'BOOTSTRAPPED') === false, "bootstrap succeeded without a database: $out");
    contains('Exception|', $out);
    contains('::', $out, 'die_freepbx message format');
    contains('|PDOException', $out, 'the PDOException is kept as previous');
    // Default error handler (Whoops in FreePBX): the process prints an error and exits non-zero.
    $script2 = $dir . '/probe2.php';
    file_put_contents($script2, '<?php require ' . var_export($conf, true) . '; echo "BOOTSTRAPPED\n";');
    exec(escapeshellarg(PHP_BINARY) . ' ' . escapeshellarg($script2) . ' 2>&1', $lines, $code);
    ok($code !== 0, 'exit status must be non-zero, got ' . $code);
    ok(!in_array('BOOTSTRAPPED', $lines, true), 'must not continue after the failed bootstrap');
});
