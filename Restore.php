<?php

/**
 * Restore of the API Call module for FreePBX 17's Backup & Restore: puts back the
 * settings, the API token and the URL secret saved by Backup.php. Unknown keys and
 * malformed secrets are skipped.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\modules\Apicall;

use FreePBX\modules\Backup as Base;

class Restore extends Base\RestoreBase
{
    public function runRestore($jobid = null)
    {
        $configs = $this->getConfigs();
        $settings = is_array($configs) && is_array($configs['settings'] ?? null) ? $configs['settings'] : [];
        $this->FreePBX->Apicall->restoreSettings($settings);
    }
}
