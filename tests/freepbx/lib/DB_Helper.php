<?php

/**
 * Stand-in for FreePBX 17's \FreePBX\DB_Helper: the per-module key/value store
 * behind $this->getConfig()/setConfig()/delConfig()/getAll() in BMO classes.
 *
 * Behaviour reproduced from the real framework:
 * - one table per class: "kvstore_" . get_class($this) with "\" turned into "_";
 * - the table is created on first use (SELECT ... LIMIT 1 failing with SQLSTATE 42S02)
 *   with `key` CHAR(255) NOT NULL, `val` VARCHAR(4096), `type` CHAR(16), `id` CHAR(255)
 *   and the indexes uniqueindex(key(190),id(190)), keyindex(key(190)), idindex(id(190));
 * - default id "noid"; arrays stored as JSON with type "json-arr", objects "json-obj",
 *   other values as given with type NULL; setting (bool) false deletes the key;
 * - values longer than 4000 characters go to `kvblobstore` (uuid, type, content) and the
 *   row holds the uuid with type "blob";
 * - a missing key returns false (or static::$dbDefaults[$key] when the class has it);
 * - values are cached per process after the first read or write;
 * - deleteAll() empties the table (it does not drop it).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX;

#[\AllowDynamicProperties]
class DB_Helper
{
    private static $cache = [];
    private static $db = false;
    private static $dbname = 'kvstore';
    private static $checked = false;

    /** Emulate another module's store for the next call (reset after use). */
    public $classOverride = false;

    public function __construct()
    {
        throw new \Exception("You should never 'new' DB_Helper. Just use it as an 'extends'");
    }

    /** Forget prepared statements and caches (the stand-in's tests use it between connections). */
    public static function resetStandIn()
    {
        self::$cache = [];
        self::$db = false;
        self::$checked = false;
    }

    private static function checkDatabase($self)
    {
        if (self::$checked === false) {
            self::$checked = [];
            self::$db = \FreePBX::create()->Database;
        }
        $tablename = self::getTableName($self);
        if (isset(self::$checked[$tablename])) {
            return self::$checked[$tablename];
        }
        try {
            self::$db->query("SELECT * FROM `$tablename` LIMIT 1");
        } catch (\Exception $e) {
            if ($e->getCode() == '42S02') {
                self::createTable($tablename);
            } else {
                self::checkException($e);
            }
        }
        $db = self::$db;
        self::$checked[$tablename] = [
            'dbGet' => $db->prepare("SELECT `val`, `type` FROM `$tablename` WHERE `key` = :key AND `id` = :id"),
            'dbGetAll' => $db->prepare("SELECT `key` FROM `$tablename` WHERE `id` = :id ORDER BY `key`"),
            'dbDel' => $db->prepare("DELETE FROM `$tablename` WHERE `key` = :key AND `id` = :id"),
            'dbAdd' => $db->prepare(
                "INSERT INTO `$tablename` (`key`, `val`, `type`, `id`) VALUES (:key, :val, :type, :id) "
                . "ON DUPLICATE KEY UPDATE `val` = :val, `type` = :type"
            ),
            'dbDelId' => $db->prepare("DELETE FROM `$tablename` WHERE `id` = :id"),
            'dbGetFirst' => $db->prepare("SELECT `key` FROM `$tablename` WHERE `id` = :id ORDER BY `key` LIMIT 1"),
            'dbGetLast' => $db->prepare("SELECT `key` FROM `$tablename` WHERE `id` = :id ORDER BY `key` DESC LIMIT 1"),
            'dbEmpty' => $db->prepare("DELETE FROM `$tablename`"),
            'dbGetAllIds' => $db->prepare("SELECT DISTINCT(`id`) FROM `$tablename` WHERE `id` <> 'noid'"),
            'dbGetByType' => $db->prepare("SELECT * FROM `$tablename` WHERE `type` = :type"),
            'tablename' => $tablename,
        ];
        self::$cache[$tablename] = [];
        return self::$checked[$tablename];
    }

    /** "kvstore_" + class name with backslashes turned into underscores. */
    public static function getTableName($self)
    {
        $mod = $self->classOverride ? $self->classOverride : get_class($self);
        return self::$dbname . '_' . str_replace('\\', '_', $mod);
    }

    public static function createTable($tablename)
    {
        if (strpos($tablename, '`') !== false) {
            throw new \Exception('Table name contains a backtick, serious bug');
        }
        self::$db->query(
            "CREATE TABLE IF NOT EXISTS `$tablename` ( `key` CHAR(255) NOT NULL, `val` VARCHAR(4096), "
            . "`type` CHAR(16) DEFAULT NULL, `id` CHAR(255) DEFAULT NULL)"
        );
        self::$db->query("ALTER TABLE `$tablename` ADD UNIQUE INDEX `uniqueindex` (`key`(190), `id`(190))");
        self::$db->query("ALTER TABLE `$tablename` ADD INDEX `keyindex` (`key`(190))");
        self::$db->query("ALTER TABLE `$tablename` ADD INDEX `idindex` (`id`(190))");
    }

    public function getConfig($var = null, $id = 'noid')
    {
        if ($var === null) {
            throw new \Exception("Can't getConfig for null");
        }
        $p = self::checkDatabase($this);
        if ($this->classOverride) {
            $mod = $this->classOverride;
            $this->classOverride = false;
        } else {
            $mod = get_class($this);
        }
        $t = $p['tablename'];
        if (isset(self::$cache[$t][$id][$var])) {
            if (self::$cache[$t][$id][$var]['type'] !== 'blob') {
                return self::$cache[$t][$id][$var]['val'];
            }
            $res = self::$cache[$t][$id][$var];
        } else {
            try {
                $p['dbGet']->execute([':key' => $var, ':id' => $id]);
            } catch (\Exception $e) {
                self::checkException($e);
            }
            $res = $p['dbGet']->fetch(\PDO::FETCH_ASSOC);
        }
        if (!empty($res)) {
            if ($res['type'] === 'blob') {
                $blob = $this->getBlob($res['val']);
                $type = $blob['type'];
                $val = $blob['content'];
            } else {
                $type = $res['type'];
                $val = $res['val'];
            }
            if ($type === 'json-obj') {
                $val = json_decode($val);
            } elseif ($type === 'json-arr') {
                $val = json_decode($val, true);
            }
            self::$cache[$t][$id][$var] = ['type' => $type, 'val' => $val];
            return $val;
        }
        if (class_exists($mod) && property_exists($mod, 'dbDefaults')) {
            $def = $mod::$dbDefaults;
            if (isset($def[$var])) {
                return $def[$var];
            }
        }
        return false;
    }

    public function setConfig($key = null, $val = false, $id = 'noid')
    {
        if ($key === null) {
            throw new \Exception("Can't setConfig null");
        }
        $p = self::checkDatabase($this);
        $query = [':key' => $key, ':id' => $id];
        if ($this->classOverride) {
            $this->classOverride = false;
        }
        $check = false;
        try {
            $p['dbGet']->execute($query);
            $check = $p['dbGet']->fetch(\PDO::FETCH_ASSOC);
        } catch (\Exception $e) {
            self::checkException($e);
        }
        $t = $p['tablename'];
        if ($val === false) {
            try {
                if (!empty($check)) {
                    if ($check['type'] === 'blob') {
                        $this->deleteBlob($check['val']);
                    }
                    $p['dbDel']->execute($query);
                }
            } catch (\Exception $e) {
                self::checkException($e);
            }
            unset(self::$cache[$t][$id][$key]);
            return true;
        }
        if (is_array($val)) {
            $query[':val'] = json_encode($val);
            $query[':type'] = 'json-arr';
        } elseif (is_object($val)) {
            $query[':val'] = json_encode($val);
            $query[':type'] = 'json-obj';
        } else {
            $query[':val'] = $val;
            $query[':type'] = null;
        }
        if (!empty($query[':val']) && strlen((string) $query[':val']) > 4000) {
            $existing = (!empty($check) && $check['type'] === 'blob') ? $check['val'] : null;
            $uuid = $this->insertBlob($existing, $query[':val'], $query[':type']);
            $query[':type'] = 'blob';
            $query[':val'] = $uuid;
            $val = $uuid;
        } elseif (!empty($check) && $check['type'] === 'blob') {
            $this->deleteBlob($check['val']);
        }
        self::$cache[$t][$id][$key] = ['type' => $query[':type'], 'val' => $val];
        if (!empty($check) && $check['val'] === $query[':val']) {
            return true;
        }
        $p['dbAdd']->execute($query);
        return true;
    }

    public function delConfig($key = null, $id = 'noid')
    {
        $this->setConfig($key, false, $id);
    }

    public function setMultiConfig($keyval = false, $id = 'noid')
    {
        if (!is_array($keyval)) {
            throw new \Exception('setMultiConfig was not given an array');
        }
        if ($this->classOverride) {
            throw new \Exception("Can't override with setMultiConfig");
        }
        self::checkDatabase($this);
        self::$db->beginTransaction();
        foreach ($keyval as $key => $val) {
            $this->setConfig($key, $val, $id);
        }
        self::$db->commit();
    }

    public function getAll($id = 'noid')
    {
        self::checkDatabase($this);
        if ($this->classOverride) {
            throw new \Exception("Can't override with getAll");
        }
        $retarr = [];
        if ($id === null) {
            // Same result shape as the framework: one (last) value per id.
            $ids = $this->getAllids();
            $ids[] = 'noid';
            foreach ($ids as $oneId) {
                foreach ($this->getAllKeys($oneId) as $key) {
                    $retarr[$oneId] = $this->getConfig($key, $oneId);
                }
            }
            return $retarr;
        }
        foreach ($this->getAllKeys($id) as $k) {
            $retarr[$k] = $this->getConfig($k, $id);
        }
        return $retarr;
    }

    public function deleteAll()
    {
        $p = self::checkDatabase($this);
        $tablename = self::getTableName($this);
        if ($this->classOverride) {
            $this->classOverride = false;
        }
        $blobs = [];
        try {
            $p['dbGetByType']->execute([':type' => 'blob']);
            $blobs = $p['dbGetByType']->fetchAll(\PDO::FETCH_ASSOC);
        } catch (\Exception $e) {
            self::checkException($e);
        }
        foreach ($blobs as $row) {
            $this->deleteBlob($row['val']);
        }
        $ret = $p['dbEmpty']->execute();
        unset(self::$checked[$tablename]);
        unset(self::$cache[$p['tablename']]);
        return $ret;
    }

    public function getAllKeys($id = 'noid')
    {
        $p = self::checkDatabase($this);
        if ($this->classOverride) {
            $this->classOverride = false;
        }
        try {
            $p['dbGetAll']->execute([':id' => $id]);
        } catch (\Exception $e) {
            self::checkException($e);
        }
        return $p['dbGetAll']->fetchAll(\PDO::FETCH_COLUMN, 0);
    }

    public function getAllids()
    {
        $p = self::checkDatabase($this);
        if ($this->classOverride) {
            $this->classOverride = false;
        }
        $p['dbGetAllIds']->execute();
        return $p['dbGetAllIds']->fetchAll(\PDO::FETCH_COLUMN, 0);
    }

    public function delById($id = null)
    {
        $p = self::checkDatabase($this);
        if ($id === null) {
            throw new \Exception("Coder error. You can't delete a blank ID");
        }
        if ($this->classOverride) {
            $this->classOverride = false;
        }
        $blobs = [];
        try {
            $p['dbGetByType']->execute([':type' => 'blob']);
            $blobs = $p['dbGetByType']->fetchAll(\PDO::FETCH_ASSOC);
        } catch (\Exception $e) {
            self::checkException($e);
        }
        foreach ($blobs as $row) {
            if ($row['id'] === $id) {
                $this->deleteBlob($row['val']);
            }
        }
        try {
            $p['dbDelId']->execute([':id' => $id]);
        } catch (\Exception $e) {
            self::checkException($e);
        }
        unset(self::$cache[$p['tablename']][$id]);
    }

    public function getFirst($id = null)
    {
        if ($id === null) {
            throw new \Exception('Coder error. getFirst requires an ID');
        }
        $p = self::checkDatabase($this);
        if ($this->classOverride) {
            $this->classOverride = false;
        }
        $p['dbGetFirst']->execute([':id' => $id]);
        $ret = $p['dbGetFirst']->fetchAll(\PDO::FETCH_COLUMN, 0);
        return $ret[0] ?? null;
    }

    public function getLast($id = null)
    {
        if ($id === null) {
            throw new \Exception('Coder error. getFirst requires an ID');
        }
        $p = self::checkDatabase($this);
        if ($this->classOverride) {
            $this->classOverride = false;
        }
        $p['dbGetLast']->execute([':id' => $id]);
        $ret = $p['dbGetLast']->fetchAll(\PDO::FETCH_COLUMN, 0);
        return $ret[0] ?? null;
    }

    /** PDO errors are passed up (the framework only special-cases corrupt tables). */
    public static function checkException($e)
    {
        if (!($e instanceof \PDOException)) {
            throw new \Exception("checkException wasn't given a PDOException");
        }
        throw $e;
    }

    public function insertBlob($uuid = null, $val = false, $type = 'raw')
    {
        if (!$val) {
            throw new \Exception('No val');
        }
        if ($uuid === null) {
            $uuid = self::uuid4();
        }
        $sql = 'INSERT INTO `kvblobstore` (`uuid`, `type`, `content`) VALUES (:uuid, :type, :data) '
            . 'ON DUPLICATE KEY UPDATE `type` = :type, `content` = :data';
        $q = self::$db->prepare($sql);
        $params = [':uuid' => $uuid, ':data' => $val, ':type' => $type];
        try {
            $q->execute($params);
        } catch (\PDOException $e) {
            if ($e->getCode() != '42S02') {
                throw $e;
            }
            self::createBlobTable();
            $q->execute($params);
        }
        return $uuid;
    }

    public function getBlob($uuid = false)
    {
        if (!$uuid) {
            throw new \Exception('No uuid');
        }
        $q = self::$db->prepare('SELECT * FROM `kvblobstore` WHERE `uuid` = :uuid');
        try {
            $q->execute([':uuid' => $uuid]);
        } catch (\PDOException $e) {
            if ($e->getCode() != '42S02') {
                throw $e;
            }
            self::createBlobTable();
            return ['content' => '', 'type' => false];
        }
        $row = $q->fetch(\PDO::FETCH_ASSOC);
        if (!$row) {
            return ['content' => '', 'type' => false];
        }
        return ['content' => $row['content'], 'type' => $row['type']];
    }

    public function deleteBlob($uuid = false)
    {
        if (!$uuid) {
            throw new \Exception('No uuid');
        }
        $q = self::$db->prepare('DELETE FROM `kvblobstore` WHERE `uuid` = :uuid');
        try {
            $q->execute([':uuid' => $uuid]);
        } catch (\PDOException $e) {
            if ($e->getCode() != '42S02') {
                throw $e;
            }
            self::createBlobTable();
        }
        return true;
    }

    private static function createBlobTable()
    {
        self::$db->query(
            'CREATE TABLE IF NOT EXISTS `kvblobstore` ( `uuid` CHAR(36) PRIMARY KEY, `type` CHAR(32), `content` LONGBLOB )'
        );
    }

    private static function uuid4()
    {
        $b = random_bytes(16);
        $b[6] = chr((ord($b[6]) & 0x0f) | 0x40);
        $b[8] = chr((ord($b[8]) & 0x3f) | 0x80);
        $h = bin2hex($b);
        return substr($h, 0, 8) . '-' . substr($h, 8, 4) . '-' . substr($h, 12, 4) . '-'
            . substr($h, 16, 4) . '-' . substr($h, 20, 12);
    }
}
