<?php

/**
 * Stand-in for the base classes FreePBX 17's Backup & Restore module gives a module's
 * Backup.php and Restore.php (namespace FreePBX\modules\Backup):
 *   BackupBase::__construct($freepbx, $backupModVer) (final), runBackup($id, $transaction),
 *   addConfigs($settings) (replaces), addDependency(), addDirectories(), addFiles(),
 *   getConfigs(), getData(); $this->FreePBX is the BMO object.
 *   RestoreBase::__construct($freepbx, $backupModVer, $modData, $tmpdir) (final) with the
 *   backed-up data, getConfigs() (a single wrapped config is unwrapped, as in the old
 *   format), runRestore().
 * A backup's data travels as JSON between the two (tools: tests/php/backup_test.php).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\modules\Backup;

class ModelBase
{
    protected $FreePBX;
    protected $backupModVer;
    protected $data = ['dirs' => [], 'files' => [], 'configs' => [], 'dependencies' => [], 'garbage' => []];

    public function __construct($freepbx, $backupModVer)
    {
        $this->FreePBX = $freepbx;
        $this->backupModVer = $backupModVer;
    }

    public function getConfigs($options = [])
    {
        if (is_array($this->data['configs']) && count($this->data['configs']) === 1 && isset($this->data['configs'][0])) {
            return $this->data['configs'][0];
        }
        return $this->data['configs'];
    }

    public function getDependencies($options = [])
    {
        return $this->data['dependencies'];
    }

    public function getDirs($options = [])
    {
        return $this->data['dirs'];
    }

    public function getFiles($options = [])
    {
        return $this->data['files'];
    }

    public function getData()
    {
        return $this->data;
    }
}

class BackupBase extends ModelBase
{
    final public function __construct($freepbx, $backupModVer)
    {
        parent::__construct($freepbx, $backupModVer);
    }

    public function runBackup($id, $transaction)
    {
    }

    public function addConfigs($settings)
    {
        if (empty($settings)) {
            return;
        }
        $this->data['configs'] = $settings;
    }

    public function addDependency($dependency)
    {
        $this->data['dependencies'][] = $dependency;
    }

    public function addDirectories($list)
    {
        foreach ((array) $list as $dir) {
            $this->data['dirs'][] = $dir;
        }
    }

    public function addFiles($list)
    {
        foreach ((array) $list as $file) {
            if (!empty($file['type']) && !empty($file['filename'])) {
                $this->data['files'][] = $file;
            }
        }
    }
}

class RestoreBase extends ModelBase
{
    protected $tmpdir;

    final public function __construct($freepbx, $backupModVer, $modData, $backupTmpDir)
    {
        parent::__construct($freepbx, $backupModVer);
        foreach ($this->data as $key => $value) {
            if (!isset($modData[$key])) {
                $modData[$key] = $value;
            }
        }
        $this->data = $modData;
        $this->tmpdir = $backupTmpDir;
    }

    public function runRestore()
    {
    }
}
