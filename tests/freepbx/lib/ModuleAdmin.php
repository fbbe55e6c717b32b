<?php

/**
 * What Module Admin (fwconsole ma install/uninstall) and fwconsole reload do for a
 * module, reduced to what this project's module needs; used by tools/*.php.
 *
 * install:   module.xml <database> tables (Doctrine types, created or completed, never
 *            dropped), install.sql, BMO install(), install.php, assets link, module
 *            marked enabled in the `modules` table.
 * uninstall: uninstall.php, BMO uninstall(), uninstall.sql, module.xml tables dropped,
 *            assets link and `modules` row removed.
 * reload:    dialplan hooks of the active BMO modules (myDialplanHooks(): true = 500,
 *            false = none, number = priority) run in priority order on one `extensions`
 *            object; the from-internal(-noxfer)-additional h extensions; the result
 *            written to ASTETCDIR/extensions_additional.conf with the FreePBX header;
 *            module agi-bin files copied to ASTAGIDIR (mode 755).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\StandIn;

class ModuleAdmin
{
    /** Doctrine DBAL type => MySQL column type (length/precision filled in later). */
    private const TYPES = [
        'string' => 'VARCHAR',
        'text' => 'LONGTEXT',
        'integer' => 'INT',
        'smallint' => 'SMALLINT',
        'bigint' => 'BIGINT',
        'boolean' => 'TINYINT(1)',
        'datetime' => 'DATETIME',
        'date' => 'DATE',
        'time' => 'TIME',
        'blob' => 'LONGBLOB',
        'binary' => 'VARBINARY',
        'float' => 'DOUBLE PRECISION',
        'decimal' => 'NUMERIC',
        'json' => 'LONGTEXT',
        'guid' => 'CHAR(36)',
    ];

    private \FreePBX $bmo;
    private string $rawname;
    private string $dir;
    private \SimpleXMLElement $xml;
    /** @var callable(string):void */
    private $out;

    public function __construct(\FreePBX $bmo, string $rawname, ?callable $say = null)
    {
        if (!preg_match('/^[a-z0-9_-]+$/', $rawname)) {
            throw new \InvalidArgumentException("invalid module name $rawname");
        }
        $this->bmo = $bmo;
        $this->rawname = $rawname;
        $this->out = $say ?? static function (string $line): void {
            echo $line, "\n";
        };
        $this->dir = rtrim((string) $bmo->Config->get('AMPWEBROOT'), '/') . '/admin/modules/' . $rawname;
        $xmlFile = $this->dir . '/module.xml';
        if (!is_readable($xmlFile)) {
            throw new \RuntimeException("$xmlFile not found: link or copy the module into admin/modules first");
        }
        $xml = simplexml_load_file($xmlFile);
        if ($xml === false || (string) $xml->rawname !== $rawname) {
            throw new \RuntimeException("$xmlFile is not the module.xml of $rawname");
        }
        $this->xml = $xml;
    }

    private function say(string $line): void
    {
        ($this->out)($line);
    }

    public function className(): string
    {
        return $this->bmo->Modules->cleanModuleName($this->rawname);
    }

    public function install(): void
    {
        $this->say("Installing {$this->rawname} " . (string) $this->xml->version . " from {$this->dir}");
        $db = $this->bmo->Database;
        foreach ($this->xml->database->table ?? [] as $table) {
            $this->migrateTable($db, $table);
        }
        $this->runSqlFile('install.sql');
        $class = $this->className();
        $classFile = $this->dir . '/' . $class . '.class.php';
        if (is_file($classFile)) {
            $this->bmo->injectClass($class, $classFile);
            $this->bmo->$class->install();
            $this->say("  BMO {$class}::install() done");
        }
        $this->runPhpFile('install.php');
        $this->linkAssets(true);
        // The framework's own web files (admin/config.php, ajax.php), as installing FreePBX puts them there.
        require_once __DIR__ . '/Admin.php';
        Admin::installWeb((string) $this->bmo->Config->get('AMPWEBROOT'));
        \FreePBX\Modules::ensureTable($db);
        $db->prepare('DELETE FROM `modules` WHERE `modulename` = ?')->execute([$this->rawname]);
        $db->prepare('INSERT INTO `modules` (`modulename`, `version`, `enabled`) VALUES (?, ?, 1)')
            ->execute([$this->rawname, (string) $this->xml->version]);
        $this->say("  module {$this->rawname} marked installed and enabled");
    }

    public function uninstall(): void
    {
        $this->say("Uninstalling {$this->rawname}");
        $this->runPhpFile('uninstall.php');
        $class = $this->className();
        $classFile = $this->dir . '/' . $class . '.class.php';
        if (is_file($classFile)) {
            $this->bmo->injectClass($class, $classFile);
            try {
                $this->bmo->$class->uninstall();
                $this->say("  BMO {$class}::uninstall() done");
            } catch (\Exception $e) {
                // FreePBX marks the module uninstalled anyway and shows the message.
                $this->say("  WARNING: {$class}::uninstall() threw: " . $e->getMessage());
            }
        }
        $this->runSqlFile('uninstall.sql');
        $db = $this->bmo->Database;
        foreach ($this->xml->database->table ?? [] as $table) {
            $name = $this->ident((string) $table['name']);
            $db->query("DROP TABLE IF EXISTS `$name`");
            $this->say("  table $name dropped");
        }
        $this->linkAssets(false);
        \FreePBX\Modules::ensureTable($db);
        $db->prepare('DELETE FROM `modules` WHERE `modulename` = ?')->execute([$this->rawname]);
        $this->say("  module {$this->rawname} removed from the module list");
    }

    /** Creates the table, or adds the columns and indexes it lacks (never drops anything). */
    private function migrateTable(\PDO $db, \SimpleXMLElement $table): void
    {
        $name = $this->ident((string) $table['name']);
        $columns = [];
        $primary = [];
        foreach ($table->field as $field) {
            $attrs = [];
            foreach ($field->attributes() as $k => $v) {
                $attrs[strtolower((string) $k)] = (string) $v;
            }
            $col = $this->ident($attrs['name'] ?? '');
            $columns[$col] = $this->columnSql($attrs);
            if (self::flag($attrs, 'primarykey')) {
                $primary[] = $col;
            }
        }
        $keys = [];
        foreach ($table->key as $key) {
            $cols = [];
            foreach ($key->column as $c) {
                $cols[] = '`' . $this->ident((string) $c['name']) . '`';
            }
            $type = strtolower((string) $key['type']);
            $keys[$this->ident((string) $key['name'])] = ($type === 'unique' ? 'UNIQUE INDEX' : 'INDEX') . ' ';
            $keys[$this->ident((string) $key['name'])] .= '`' . $this->ident((string) $key['name']) . '` (' . implode(', ', $cols) . ')';
        }
        $exists = (bool) $db->query('SHOW TABLES LIKE ' . $db->quote($name))->fetchColumn();
        if (!$exists) {
            $parts = [];
            foreach ($columns as $col => $sql) {
                $parts[] = "`$col` $sql";
            }
            if ($primary) {
                $parts[] = 'PRIMARY KEY (`' . implode('`, `', $primary) . '`)';
            }
            foreach ($keys as $sql) {
                $parts[] = $sql;
            }
            $db->query("CREATE TABLE `$name` (" . implode(', ', $parts) . ') '
                . 'DEFAULT CHARACTER SET utf8mb4 COLLATE `utf8mb4_unicode_ci` ENGINE = InnoDB');
            $this->say("  table $name created");
            return;
        }
        $have = $db->query("SHOW COLUMNS FROM `$name`")->fetchAll(\PDO::FETCH_COLUMN, 0);
        $added = [];
        foreach ($columns as $col => $sql) {
            if (!in_array($col, $have, true)) {
                $db->query("ALTER TABLE `$name` ADD COLUMN `$col` $sql");
                $added[] = $col;
            }
        }
        $haveKeys = $db->query("SHOW INDEX FROM `$name`")->fetchAll(\PDO::FETCH_COLUMN, 2);
        foreach ($keys as $keyName => $sql) {
            if (!in_array($keyName, $haveKeys, true)) {
                $db->query("ALTER TABLE `$name` ADD $sql");
                $added[] = "index $keyName";
            }
        }
        $this->say("  table $name exists" . ($added ? '; added ' . implode(', ', $added) : ', unchanged'));
    }

    private function columnSql(array $a): string
    {
        $type = strtolower($a['type'] ?? 'string');
        if (!isset(self::TYPES[$type])) {
            throw new \RuntimeException("unsupported column type $type in module.xml");
        }
        $sql = self::TYPES[$type];
        if ($type === 'string') {
            $sql = (self::flag($a, 'fixed') ? 'CHAR' : 'VARCHAR') . '(' . (int) ($a['length'] ?? 255) . ')';
        } elseif ($type === 'binary') {
            $sql = (self::flag($a, 'fixed') ? 'BINARY' : 'VARBINARY') . '(' . (int) ($a['length'] ?? 255) . ')';
        } elseif (($type === 'text' || $type === 'blob') && isset($a['length']) && (int) $a['length'] > 0) {
            // Doctrine's MySQL platform picks the smallest TEXT/BLOB type holding `length`.
            $len = (int) $a['length'];
            $base = $type === 'text' ? 'TEXT' : 'BLOB';
            $sql = ($len <= 255 ? 'TINY' : ($len <= 65535 ? '' : ($len <= 16777215 ? 'MEDIUM' : 'LONG'))) . $base;
        } elseif ($type === 'decimal') {
            $sql .= '(' . (int) ($a['precision'] ?? 10) . ', ' . (int) ($a['scale'] ?? 0) . ')';
        }
        if (self::flag($a, 'unsigned')) {
            $sql .= ' UNSIGNED';
        }
        // Doctrine columns are NOT NULL unless notnull="false".
        $notnull = !isset($a['notnull']) || self::flag($a, 'notnull');
        $sql .= $notnull ? ' NOT NULL' : '';
        if (isset($a['default'])) {
            $sql .= ' DEFAULT ' . $this->bmo->Database->quote($a['default']);
        } elseif (!$notnull) {
            $sql .= ' DEFAULT NULL';
        }
        if (self::flag($a, 'autoincrement')) {
            $sql .= ' AUTO_INCREMENT';
        }
        return $sql;
    }

    private static function flag(array $attrs, string $name): bool
    {
        return isset($attrs[$name]) && strtolower($attrs[$name]) === 'true';
    }

    private function ident(string $name): string
    {
        if (!preg_match('/^[A-Za-z0-9_]+$/', $name)) {
            throw new \RuntimeException("invalid identifier '$name' in module.xml");
        }
        return $name;
    }

    private function runSqlFile(string $file): void
    {
        $path = $this->dir . '/' . $file;
        if (!is_file($path)) {
            return;
        }
        $this->bmo->Database->exec((string) file_get_contents($path));
        $this->say("  $file run");
    }

    private function runPhpFile(string $file): void
    {
        $path = $this->dir . '/' . $file;
        if (!is_file($path)) {
            return;
        }
        (static function (string $__file): void {
            global $amp_conf, $db;
            include $__file;
        })($path);
        $this->say("  $file run");
    }

    /** FreePBX links admin/assets/<module> to the module's assets folder. */
    private function linkAssets(bool $install): void
    {
        $assets = $this->dir . '/assets';
        $link = rtrim((string) $this->bmo->Config->get('AMPWEBROOT'), '/') . '/admin/assets/' . $this->rawname;
        if (is_link($link)) {
            unlink($link);
        }
        if ($install && is_dir($assets)) {
            if (!is_dir(dirname($link))) {
                mkdir(dirname($link), 0755, true);
            }
            symlink($assets, $link);
            $this->say("  assets linked at $link");
        }
    }

    // ------------------------------------------------------------------ reload

    /**
     * Generates extensions_additional.conf from every active module's dialplan hook and
     * copies module agi-bin files. Returns the path written.
     */
    public static function reload(\FreePBX $bmo, ?callable $say = null): string
    {
        $say = $say ?? static function (string $line): void {
            echo $line, "\n";
        };
        global $ext;
        $ext = new \extensions();
        $webroot = rtrim((string) $bmo->Config->get('AMPWEBROOT'), '/');
        $hooks = [];
        foreach (array_keys($bmo->Modules->getActiveModules()) as $module) {
            $class = $bmo->Modules->cleanModuleName($module);
            $file = "$webroot/admin/modules/$module/$class.class.php";
            if (!is_file($file)) {
                continue;
            }
            $bmo->injectClass($class, $file);
            $fq = '\\FreePBX\\modules\\' . $class;
            if (!method_exists($fq, 'myDialplanHooks')) {
                continue;
            }
            $pri = $fq::myDialplanHooks();
            if ($pri === false) {
                continue;
            }
            if ($pri === true) {
                $pri = 500;
            }
            if (!is_numeric($pri)) {
                throw new \RuntimeException("$class::myDialplanHooks() must return true, false or a number");
            }
            $hooks[(int) $pri][] = $class;
        }
        ksort($hooks);
        foreach ($hooks as $pri => $classes) {
            foreach ($classes as $class) {
                if (!method_exists($bmo->$class, 'doDialplanHook')) {
                    $say("HANDLED-ERROR: {$class}->doDialplanHook() isn't there, but the module is saying it wants to hook");
                    continue;
                }
                try {
                    $bmo->$class->doDialplanHook($ext, 'asterisk', $pri);
                    $say("  {$class}->doDialplanHook() at priority $pri");
                } catch (\Exception $e) {
                    $say("HANDLED-ERROR: Tried to run {$class}->doDialplanHook(), it threw an exception. I received " . $e->getMessage());
                }
            }
        }
        $ext->add('from-internal-additional', 'h', '', new \ext_hangup(''));
        $ext->add('from-internal-noxfer-additional', 'h', '', new \ext_hangup(''));
        $bmo->WriteConfig->writeConfig($ext->get_filename(), $ext->generateConf());
        $path = rtrim((string) $bmo->Config->get('ASTETCDIR'), '/') . '/' . $ext->get_filename();
        $say("  wrote $path");

        $agiDir = rtrim((string) $bmo->Config->get('ASTAGIDIR'), '/');
        foreach (array_keys($bmo->Modules->getActiveModules()) as $module) {
            $src = "$webroot/admin/modules/$module/agi-bin";
            if (!is_dir($src)) {
                continue;
            }
            if (!is_dir($agiDir)) {
                mkdir($agiDir, 0755, true);
            }
            foreach (scandir($src) ?: [] as $f) {
                if ($f === '.' || $f === '..' || !is_file("$src/$f")) {
                    continue;
                }
                $tmp = "$agiDir/.$f.tmp";
                copy("$src/$f", $tmp);
                chmod($tmp, 0755);
                rename($tmp, "$agiDir/$f");
                $say("  copied agi-bin/$f to $agiDir");
            }
        }
        return $path;
    }

    /** Sends an Asterisk CLI command over AMI (ASTMANAGERHOST/PORT, AMPMGRUSER/PASS). */
    public static function amiCommand(array $conf, string $command, float $timeout = 5.0): string
    {
        $host = (string) ($conf['ASTMANAGERHOST'] ?? '127.0.0.1');
        $port = (int) ($conf['ASTMANAGERPORT'] ?? 5038);
        $errno = 0;
        $errstr = '';
        $sock = @stream_socket_client("tcp://$host:$port", $errno, $errstr, $timeout);
        if ($sock === false) {
            throw new \RuntimeException("cannot connect to AMI at $host:$port: $errstr");
        }
        stream_set_timeout($sock, (int) ceil($timeout));
        fgets($sock); // banner
        $send = static function (array $fields) use ($sock): array {
            $msg = '';
            foreach ($fields as $k => $v) {
                $msg .= "$k: $v\r\n";
            }
            fwrite($sock, $msg . "\r\n");
            $resp = [];
            $raw = '';
            while (($line = fgets($sock)) !== false) {
                if ($line === "\r\n") {
                    break;
                }
                $raw .= $line;
                $kv = explode(':', $line, 2);
                if (count($kv) === 2 && !isset($resp[trim($kv[0])])) {
                    $resp[trim($kv[0])] = trim($kv[1]);
                }
            }
            $resp['_raw'] = $raw;
            return $resp;
        };
        $login = $send([
            'Action' => 'Login',
            'Username' => (string) ($conf['AMPMGRUSER'] ?? ''),
            'Secret' => (string) ($conf['AMPMGRPASS'] ?? ''),
            'Events' => 'off',
        ]);
        if (($login['Response'] ?? '') !== 'Success') {
            fclose($sock);
            throw new \RuntimeException('AMI login failed: ' . ($login['Message'] ?? 'no answer'));
        }
        $resp = $send(['Action' => 'Command', 'Command' => $command]);
        $send(['Action' => 'Logoff']);
        fclose($sock);
        if (($resp['Response'] ?? '') !== 'Success') {
            throw new \RuntimeException("AMI command '$command' failed: " . ($resp['Message'] ?? trim($resp['_raw'])));
        }
        return $resp['_raw'];
    }
}
