<?php

/**
 * Stand-ins for the framework libraries a module reaches through BMO:
 * \FreePBX\Database (a PDO), \FreePBX\Config (settings), \FreePBX\Modules
 * (active modules) and \FreePBX\WriteConfig (Asterisk config files with the
 * FreePBX header).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX;

/**
 * The framework's PDO connection. Like the real one: AMPDBSOCK (when set) wins over
 * host and port, AMPDBPORT is only used when > 1024, charset utf8mb4, errors as
 * exceptions, and a failed connection ends in die_freepbx() (which throws).
 */
#[\AllowDynamicProperties]
class Database extends \PDO
{
    public function __construct(...$args)
    {
        if (isset($args[0]) && $args[0] instanceof \FreePBX) {
            $this->FreePBX = array_shift($args);
        }
        $amp_conf = \FreePBX::$conf;
        $dsn = isset($args[0]) && is_string($args[0]) && $args[0] !== '' ? $args[0] : self::dsnFromConf($amp_conf);
        $username = $args[1] ?? ($amp_conf['AMPDBUSER'] ?? '');
        $password = $args[2] ?? ($amp_conf['AMPDBPASS'] ?? '');
        $options = $args[3] ?? [];
        $options[\PDO::MYSQL_ATTR_INIT_COMMAND] = 'SET NAMES utf8mb4';
        try {
            parent::__construct($dsn, $username, $password, $options);
        } catch (\Exception $e) {
            die_freepbx($e->getMessage(), $e);
        }
        $this->setAttribute(\PDO::ATTR_ERRMODE, \PDO::ERRMODE_EXCEPTION);
    }

    public static function dsnFromConf(array $amp_conf)
    {
        $parts = [
            'host' => $amp_conf['AMPDBHOST'] ?? 'localhost',
            'dbname' => $amp_conf['AMPDBNAME'] ?? 'asterisk',
        ];
        if (isset($amp_conf['AMPDBPORT']) && (int) $amp_conf['AMPDBPORT'] > 1024) {
            $parts['port'] = (int) $amp_conf['AMPDBPORT'];
        }
        if (isset($amp_conf['AMPDBSOCK']) && $amp_conf['AMPDBSOCK'] !== '') {
            unset($parts['host'], $parts['port']);
            $parts['unix_socket'] = $amp_conf['AMPDBSOCK'];
        }
        $parts['charset'] = 'utf8mb4';
        $dsn = 'mysql:';
        foreach ($parts as $k => $v) {
            $dsn .= "$k=$v;";
        }
        return $dsn;
    }

    /** COMPAT: first column of the first row, or false. */
    public function getOne($sql = null)
    {
        if ($sql === null) {
            throw new \Exception('No SQL given to getOne');
        }
        $line = $this->query($sql)->fetchColumn();
        return !empty($line) ? $line : false;
    }

    public function escapeSimple($str = null)
    {
        return $this->quote((string) $str);
    }
}

/**
 * Advanced Settings. get() returns the value of a setting or (bool) false when the
 * setting does not exist. As in FreePBX, the bootstrap-only values of freepbx.conf
 * (AMPDBUSER, AMPDBPASS, AMPDBHOST, AMPDBNAME, AMPDBENGINE, AMPDBSOCK, AMPDBPORT,
 * datasource) are NOT settings: get() returns false for them; read them from the
 * global $amp_conf.
 */
#[\AllowDynamicProperties]
class Config
{
    const BOOTSTRAP_ONLY = ['AMPDBUSER', 'AMPDBPASS', 'AMPDBHOST', 'AMPDBNAME', 'AMPDBENGINE', 'AMPDBSOCK', 'AMPDBPORT', 'datasource'];

    /** Defaults FreePBX has for the legacy settings (Config::$legacy_conf_defaults). */
    const DEFAULTS = [
        'AMPDBENGINE' => 'mysql',
        'AMPDBNAME' => 'asterisk',
        'AMPENGINE' => 'asterisk',
        'ASTMANAGERPORT' => '5038',
        'ASTMANAGERHOST' => 'localhost',
        'AMPDBHOST' => 'localhost',
        'AMPDBUSER' => 'asteriskuser',
        'AMPMGRUSER' => 'admin',
        'AMPMGRPASS' => 'amp111',
        'AMPASTERISKWEBUSER' => 'asterisk',
        'AMPASTERISKWEBGROUP' => 'asterisk',
        'AMPASTERISKUSER' => 'asterisk',
        'AMPASTERISKGROUP' => 'asterisk',
        'ASTETCDIR' => '/etc/asterisk',
        'ASTMODDIR' => '/usr/lib/asterisk/modules',
        'ASTVARLIBDIR' => '/var/lib/asterisk',
        'ASTAGIDIR' => '/var/lib/asterisk/agi-bin',
        'ASTSPOOLDIR' => '/var/spool/asterisk/',
        'ASTRUNDIR' => '/var/run/asterisk',
        'ASTLOGDIR' => '/var/log/asterisk',
        'AMPBIN' => '/var/lib/asterisk/bin',
        'AMPSBIN' => '/usr/sbin',
        'AMPWEBROOT' => '/var/www/html',
        'CDRDBNAME' => 'asteriskcdrdb',
        'LAUNCH_AGI_AS_FASTAGI' => false,
    ];

    private $freepbx;
    private $settings = [];

    public function __construct($freepbx = null)
    {
        if ($freepbx === null) {
            throw new \Exception('Need to be instantiated with a FreePBX Object');
        }
        $this->freepbx = $freepbx;
        foreach (array_merge(self::DEFAULTS, \FreePBX::$conf) as $k => $v) {
            if (!in_array($k, self::BOOTSTRAP_ONLY, true)) {
                $this->settings[$k] = $v;
            }
        }
    }

    public function get($keyword, $passthru = false)
    {
        return $this->get_conf_setting($keyword, $passthru);
    }

    public function get_conf_setting($keyword, $passthru = false)
    {
        return array_key_exists($keyword, $this->settings) ? $this->settings[$keyword] : false;
    }

    public function exists($keyword)
    {
        return $this->conf_setting_exists($keyword);
    }

    public function conf_setting_exists($keyword)
    {
        return array_key_exists($keyword, $this->settings);
    }

    /** In-memory only: the stand-in has no freepbx_settings table. */
    public function set($keyword, $value, $commit = true, $override_readonly = true)
    {
        global $amp_conf;
        $this->settings[$keyword] = $value;
        $amp_conf[$keyword] = $value;
        return 1;
    }

    public function update($keyword, $value, $commit = true, $override_readonly = true)
    {
        return $this->set($keyword, $value, $commit, $override_readonly);
    }

    /** Merge the bootstrap values back in, as parse_amportal_conf() does for $amp_conf. */
    public function parse_amportal_conf($filename, $bootstrap_conf = [], $file_is_authority = false)
    {
        $final = $this->settings;
        foreach ($bootstrap_conf as $k => $v) {
            if (in_array($k, self::BOOTSTRAP_ONLY, true)) {
                $final[$k] = $v;
            }
        }
        return $final;
    }
}

/**
 * Module registry backed by the framework's `modules` table
 * (id, modulename, version, enabled, signature). getActiveModules() returns the
 * enabled ones keyed by rawname with the fields of their module.xml.
 */
#[\AllowDynamicProperties]
class Modules
{
    private $freepbx;

    public function __construct($freepbx = null)
    {
        if ($freepbx === null) {
            throw new \Exception('Need to be instantiated with a FreePBX Object');
        }
        $this->freepbx = $freepbx;
    }

    public static function ensureTable(\PDO $db)
    {
        $db->query(
            'CREATE TABLE IF NOT EXISTS `modules` ( `id` INT(11) NOT NULL AUTO_INCREMENT, '
            . "`modulename` VARCHAR(50) NOT NULL DEFAULT '', `version` VARCHAR(20) NOT NULL DEFAULT '', "
            . '`enabled` TINYINT(4) NOT NULL DEFAULT 0, `signature` BLOB, PRIMARY KEY (`id`))'
        );
    }

    public function getActiveModules($cached = true)
    {
        $out = [];
        foreach ($this->rows() as $row) {
            if ((int) $row['enabled'] === 1) {
                $out[$row['modulename']] = $this->describe($row);
            }
        }
        return $out;
    }

    public function getInfo($module = false, $status = false, $forceload = false)
    {
        $out = [];
        foreach ($this->rows() as $row) {
            if ($module === false || $module === $row['modulename']) {
                $out[$row['modulename']] = $this->describe($row);
            }
        }
        return $out;
    }

    public function checkStatus($modname, $status = 2)
    {
        $active = $this->getActiveModules();
        return isset($active[$modname]);
    }

    public function moduleHasMethod($module, $method)
    {
        $active = $this->getActiveModules();
        if (!isset($active[$module])) {
            return false;
        }
        $name = $this->cleanModuleName($module);
        $class = '\\FreePBX\\modules\\' . $name;
        if (!class_exists($class)) {
            $file = $this->freepbx->Config->get('AMPWEBROOT') . '/admin/modules/' . $module . '/' . $name . '.class.php';
            if (!file_exists($file)) {
                return false;
            }
            include_once $file;
        }
        return class_exists($class) && method_exists($class, $method);
    }

    public function cleanModuleName($module)
    {
        return ucfirst(strtolower(str_replace('-', 'dash', $module)));
    }

    private function rows()
    {
        try {
            return $this->freepbx->Database->query('SELECT * FROM `modules`')->fetchAll(\PDO::FETCH_ASSOC);
        } catch (\PDOException $e) {
            if ($e->getCode() == '42S02') {
                return [];
            }
            throw $e;
        }
    }

    private function describe(array $row)
    {
        $info = [
            'rawname' => $row['modulename'],
            'version' => $row['version'],
            'status' => (int) $row['enabled'] === 1 ? 2 : 1,
        ];
        $xml = $this->freepbx->Config->get('AMPWEBROOT') . '/admin/modules/' . $row['modulename'] . '/module.xml';
        if (is_readable($xml)) {
            $sx = @simplexml_load_file($xml);
            if ($sx !== false) {
                $info['name'] = (string) $sx->name;
                $info['license'] = (string) $sx->license;
                $info['category'] = (string) $sx->category;
            }
        }
        return $info;
    }
}

/** Writes files into ASTETCDIR with the FreePBX generated-file header. */
#[\AllowDynamicProperties]
class WriteConfig
{
    const HEADER = ";--------------------------------------------------------------------------------;\n"
        . ";          Do NOT edit this file as it is auto-generated by FreePBX.             ;\n"
        . ";--------------------------------------------------------------------------------;\n"
        . "; For information on adding additional paramaters to this file, please visit the ;\n"
        . "; FreePBX.org wiki page, or ask on IRC. This file was created by the new FreePBX ;\n"
        . "; BMO - Big Module Object. Any similarity in naming with BMO from Adventure Time ;\n"
        . "; is totally deliberate.                                                         ;\n"
        . ";--------------------------------------------------------------------------------;\n";

    private $freepbx;

    public function __construct($freepbx = null, $array = null)
    {
        if ($freepbx === null) {
            throw new \Exception('Need to be instantiated with a FreePBX Object');
        }
        $this->freepbx = $freepbx;
        if ($array !== null) {
            $this->writeConfigs($array);
        }
    }

    public function writeConfig($filename, $contents, $generateHeader = true)
    {
        if ($filename === null) {
            throw new \Exception('No filename given to writeConfig. This is a bug');
        }
        $this->writeConfigs([$filename => $contents], $generateHeader);
    }

    public function writeConfigs($array, $generateHeader = true)
    {
        if (!is_array($array)) {
            return true;
        }
        foreach ($array as $file => $contents) {
            $this->writeFile($this->validateFilename($file), $contents, $generateHeader);
        }
        return true;
    }

    public function getHeader()
    {
        return self::HEADER;
    }

    private function validateFilename($file)
    {
        if (strpos($file, '/') !== false || strpos($file, '..') !== false) {
            throw new \Exception("$file is not a plain file name");
        }
        $filename = $this->freepbx->Config->get('ASTETCDIR') . '/' . $file;
        if (is_link($filename)) {
            $filename = readlink($filename);
        }
        return $filename;
    }

    private function writeFile($filename, $contents, $generateHeader)
    {
        if ($contents === false) {
            if (file_exists($filename)) {
                unlink($filename);
            }
            return true;
        }
        $header = '';
        if (is_array($contents)) {
            $output = "\n";
            foreach ($contents as $title => $item) {
                if ($title === 'HEADER') {
                    $header = (is_array($item) ? implode("\n", $item) : $item) . "\n";
                    continue;
                }
                $output .= "[$title]\n";
                if (is_array($item)) {
                    foreach ($item as $i => $v) {
                        if (is_array($v)) {
                            foreach ($v as $opt) {
                                $output .= "$i = $opt\n";
                            }
                        } elseif (is_numeric($i)) {
                            $output .= "$v\n";
                        } else {
                            $output .= "$i=$v\n";
                        }
                    }
                } else {
                    $output .= $item;
                }
                $output .= "\n";
            }
        } else {
            $output = $contents;
        }
        $data = ($generateHeader ? self::HEADER : '') . $header . $output;
        // Atomic replace, so a reading Asterisk never sees half a file.
        $tmp = $filename . '.tmp.' . getmypid();
        if (file_put_contents($tmp, $data) === false || !rename($tmp, $filename)) {
            @unlink($tmp);
            throw new \Exception("Unable to write $filename");
        }
        return true;
    }
}

/**
 * FreePBX 17's job registry (BMO Job): modules register classes or commands the
 * framework's job runner (`fwconsole job --run`, every minute from the asterisk user's
 * crontab) runs on a cron schedule. Table cron_jobs; add() updates an existing job except
 * its enabled flag. The stand-in keeps no crontab: its fwconsole has `job --run`.
 */
#[\AllowDynamicProperties]
class Job
{
    private $db;

    public function __construct($freepbx = null)
    {
        if ($freepbx === null) {
            throw new \Exception('Not given a FreePBX Object');
        }
        $this->db = $freepbx->Database;
        $this->db->query(
            'CREATE TABLE IF NOT EXISTS `cron_jobs` (`id` INT(11) NOT NULL AUTO_INCREMENT, '
            . '`modulename` VARCHAR(100) NOT NULL, `jobname` VARCHAR(100) NOT NULL, `command` VARCHAR(255) NULL, '
            . '`class` VARCHAR(255) NULL, `schedule` VARCHAR(100) NOT NULL, `max_runtime` INT(11) NOT NULL DEFAULT 30, '
            . '`enabled` TINYINT(1) NOT NULL DEFAULT 1, PRIMARY KEY (`id`), UNIQUE KEY `job` (`modulename`, `jobname`))'
        );
    }

    public function getAll()
    {
        return $this->db->query('SELECT * FROM cron_jobs')->fetchAll(\PDO::FETCH_ASSOC);
    }

    public function getAllEnabled()
    {
        return $this->db->query('SELECT * FROM cron_jobs WHERE `enabled` = 1')->fetchAll(\PDO::FETCH_ASSOC);
    }

    public function addCommand($modulename, $jobname, $command, $schedule, $max_runtime = 30, $enabled = true)
    {
        return $this->add($modulename, $jobname, $command, null, $schedule, $max_runtime, $enabled);
    }

    public function addClass($modulename, $jobname, $class, $schedule, $max_runtime = 30, $enabled = true)
    {
        return $this->add($modulename, $jobname, null, $class, $schedule, $max_runtime, $enabled);
    }

    public function add($modulename, $jobname, $command, $class, $schedule, $max_runtime = 30, $enabled = true)
    {
        if (count(preg_split('/\s+/', trim((string) $schedule))) !== 5 && strpos((string) $schedule, '@') !== 0) {
            throw new \Exception("$schedule is not a valid Cron Expression!");
        }
        $sth = $this->db->prepare('INSERT INTO cron_jobs (`modulename`, `jobname`, `command`, `class`, `schedule`, `max_runtime`, `enabled`)'
            . ' VALUES (:modulename, :jobname, :command, :class, :schedule, :max_runtime, :enabled)'
            . ' ON DUPLICATE KEY UPDATE `command` = VALUES(`command`), `class` = VALUES(`class`), `schedule` = VALUES(`schedule`), `max_runtime` = VALUES(`max_runtime`)');
        return $sth->execute([
            ':modulename' => $modulename, ':jobname' => $jobname, ':command' => $command, ':class' => $class,
            ':schedule' => $schedule, ':max_runtime' => $max_runtime, ':enabled' => $enabled ? 1 : 0,
        ]);
    }

    public function remove($modulename, $jobname)
    {
        return $this->db->prepare('DELETE FROM cron_jobs WHERE `modulename` = ? AND `jobname` = ?')->execute([$modulename, $jobname]);
    }

    public function removeAllByModule($modulename)
    {
        return $this->db->prepare('DELETE FROM cron_jobs WHERE `modulename` = ?')->execute([$modulename]);
    }

    public function setEnabled($modulename, $jobname, $enabled = true)
    {
        return $this->db->prepare('UPDATE cron_jobs SET `enabled` = ? WHERE `modulename` = ? AND `jobname` = ?')
            ->execute([$enabled ? 1 : 0, $modulename, $jobname]);
    }
}
