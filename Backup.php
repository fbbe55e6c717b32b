<?php

/**
 * Backup of the API Call module for FreePBX 17's Backup & Restore: the settings, the API
 * token and the URL secret (so applications and signed answer links keep working after
 * a restore). The calls tables are history, not configuration: they are not carried.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\modules\Apicall;

use FreePBX\modules\Backup as Base;

class Backup extends Base\BackupBase
{
    public function runBackup($id, $transaction)
    {
        $this->addConfigs([
            'version' => \FreePBX\modules\Apicall::VERSION,
            'settings' => $this->FreePBX->Apicall->backupSettings(),
        ]);
    }
}
