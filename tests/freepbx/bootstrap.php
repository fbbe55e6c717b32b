<?php

/**
 * Stand-in for FreePBX 17's admin/bootstrap.php, required at the end of a
 * freepbx.conf after it has set $amp_conf (AMPDBUSER, AMPDBPASS, AMPDBHOST,
 * AMPDBPORT, AMPDBNAME, AMPDBSOCK and the directory settings).
 *
 * Like the real bootstrap it must run in the global scope and honours:
 *   $bootstrap_settings['returnimmediately']      return at once (only $amp_conf is set)
 *   $bootstrap_settings['freepbx_auth'] = false    no GUI login (always so on the CLI)
 *   $bootstrap_settings['freepbx_error_handler']   false: leave error/exception handlers alone;
 *                                                   otherwise an uncaught exception prints an
 *                                                   error page and exits 1 (FreePBX uses Whoops)
 *   $bootstrap_settings['skip_astman']             accepted; the stand-in never connects to AMI
 *   $restrict_mods                                 accepted; the stand-in loads no functions.inc.php
 *
 * It builds the BMO object, which connects to MariaDB at once: when the database is
 * unreachable the bootstrap throws (die_freepbx), as FreePBX 17 does.
 * Afterwards: FreePBX::create(), FreePBX::Database(), FreePBX::Config()->get(), the
 * autoloader of module classes (FreePBX\modules\<Module>\<Name> from <Name>.php),
 * FreePBX::<Module>() for active modules, $amp_conf (settings + bootstrap values),
 * load_view()/show_view(), the dialplan classes, FREEPBX_IS_AUTH.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (isset($bootstrap_settings['returnimmediately'])) {
    return;
}

global $amp_conf;

if (!is_array($amp_conf ?? null)) {
    $amp_conf = [];
}
if (empty($amp_conf['AMPWEBROOT'])) {
    $amp_conf['AMPWEBROOT'] = dirname(__DIR__);
}
if (isset($bootstrap_settings['bootstrapped'])) {
    error_log('[FreePBX] Bootstrap has already been called once, bad code somewhere');
    return;
}
$bootstrap_settings = is_array($bootstrap_settings ?? null) ? $bootstrap_settings : [];
$bootstrap_settings['bootstrapped'] = true;
$restrict_mods = $restrict_mods ?? false;
foreach (
    [
        'skip_astman' => false,
        'freepbx_error_handler' => true,
        'freepbx_auth' => true,
        'cdrdb' => false,
    ] as $apicallBootstrapKey => $apicallBootstrapDefault
) {
    if (!isset($bootstrap_settings[$apicallBootstrapKey])) {
        $bootstrap_settings[$apicallBootstrapKey] = $apicallBootstrapDefault;
    }
}
unset($apicallBootstrapKey, $apicallBootstrapDefault);

ini_set('default_charset', 'UTF-8');
date_default_timezone_set('UTC');

require_once __DIR__ . '/lib/functions.php';
require_once __DIR__ . '/lib/DB_Helper.php';
require_once __DIR__ . '/lib/BMO.php';
require_once __DIR__ . '/lib/FreePBX.php';
require_once __DIR__ . '/lib/Libraries.php';
require_once __DIR__ . '/lib/extensions.php';
require_once __DIR__ . '/lib/TaskInterface.php';

// Like FreePBX's autoloader: FreePBX\modules\<Module>\<Name> is the file <Name>.php of the
// module (Backup.php, Restore.php, Job.php, ...), sub-namespaces being folders.
spl_autoload_register(static function (string $class): void {
    if (!preg_match('/^FreePBX\\\\modules\\\\([A-Za-z0-9_]+)\\\\([A-Za-z0-9_\\\\]+)$/D', $class, $m)) {
        return;
    }
    $file = rtrim((string) ($GLOBALS['amp_conf']['AMPWEBROOT'] ?? ''), '/') . '/admin/modules/' . strtolower($m[1])
        . '/' . str_replace('\\', '/', $m[2]) . '.php';
    if (is_file($file)) {
        require_once $file;
    }
});

if ($bootstrap_settings['freepbx_error_handler']) {
    // FreePBX registers Whoops here: an uncaught exception becomes an error page.
    set_exception_handler(static function (\Throwable $e): void {
        if (PHP_SAPI === 'cli') {
            fwrite(STDERR, get_class($e) . ': ' . $e->getMessage() . "\n" . $e->getTraceAsString() . "\n");
        } else {
            if (!headers_sent()) {
                http_response_code(500);
            }
            echo '<h1>' . htmlspecialchars(get_class($e)) . '</h1><p>' . htmlspecialchars($e->getMessage()) . '</p>';
        }
        exit(1);
    });
}

// BMO: connects to the database now (throws when it cannot).
$bmo = new FreePBX($amp_conf);
$amp_conf = $bmo->Config->parse_amportal_conf('/etc/amportal.conf', $amp_conf);
FreePBX::$conf = $amp_conf;

if (!$bootstrap_settings['freepbx_auth'] || PHP_SAPI === 'cli') {
    if (!defined('FREEPBX_IS_AUTH')) {
        define('FREEPBX_IS_AUTH', 'TRUE');
    }
} else {
    // The stand-in has no GUI login: a web page needing authentication is refused,
    // as FreePBX refuses it without a session.
    if (!defined('FREEPBX_IS_AUTH')) {
        http_response_code(403);
        die('No direct script access allowed');
    }
}
$bootstrap_settings['function_modules_included'] = false;
