<?php

/**
 * Stand-in for the global helper functions of the FreePBX 17 framework
 * (admin/functions.inc.php, libraries/utility.functions.php, view.functions.php).
 *
 * Only what modules call. Behaviour follows the real functions: die_freepbx()
 * throws (FreePBX 17 no longer exits), load_view() returns false for a missing
 * view, extracts $vars with EXTR_SKIP and returns the captured output.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * No strict_types here on purpose: the real framework is loosely typed.
 */

if (!function_exists('_')) {
    /** gettext fallback when the gettext extension is missing. */
    function _(string $message): string
    {
        return $message;
    }
}

if (!defined('FPBX_LOG_FATAL')) {
    define('FPBX_LOG_FATAL', 'FATAL');
    define('FPBX_LOG_CRITICAL', 'CRITICAL');
    define('FPBX_LOG_SECURITY', 'SECURITY');
    define('FPBX_LOG_UPDATE', 'UPDATE');
    define('FPBX_LOG_ERROR', 'ERROR');
    define('FPBX_LOG_WARNING', 'WARNING');
    define('FPBX_LOG_NOTICE', 'NOTICE');
    define('FPBX_LOG_INFO', 'INFO');
    define('FPBX_LOG_PHP', 'PHP');
}

/**
 * FreePBX 17: throws an \Exception "text::extended" (with the original exception as previous).
 */
function die_freepbx($text, $extended_text = '', $type = 'FATAL')
{
    if (is_object($extended_text) && method_exists($extended_text, 'getMessage')) {
        $e = $extended_text;
        throw new \Exception($text . '::' . htmlentities($e->getMessage()), (int) $e->getCode(), $e);
    }
    throw new \Exception($text . '::' . htmlentities((string) $extended_text));
}

/** Write a line to the FreePBX log (here: PHP's error_log, prefixed like freepbx.log). */
function freepbx_log($level, $message)
{
    error_log('[FreePBX] [' . $level . '] ' . $message);
}

/** Debug helper of the framework; the stand-in only logs. */
function dbug(...$args)
{
    $parts = [];
    foreach ($args as $arg) {
        $parts[] = is_string($arg) ? $arg : var_export($arg, true);
    }
    error_log('[FreePBX dbug] ' . implode(' ', $parts));
}

/**
 * Render a view file with $vars extracted into its scope and return the HTML,
 * or false when the file does not exist or is not readable.
 */
function load_view($view_filename_protected, $vars = [])
{
    if (!$view_filename_protected || !file_exists($view_filename_protected) || !is_readable($view_filename_protected)) {
        dbug('load_view failed to load view for inclusion:', $view_filename_protected);
        return false;
    }
    extract((array) $vars, EXTR_SKIP);
    ob_start();
    include $view_filename_protected;
    $buffer = ob_get_contents();
    ob_end_clean();
    return $buffer;
}

/** Echo a rendered view (see load_view). */
function show_view($view_filename_protected, $vars = [])
{
    $buffer = load_view($view_filename_protected, $vars);
    if ($buffer !== false) {
        echo $buffer;
    }
}

/** Installer output helpers used by install.php scripts (module_functions). */
if (!function_exists('out')) {
    function out($text)
    {
        echo $text . "\n";
    }
}

if (!function_exists('outn')) {
    function outn($text)
    {
        echo $text;
    }
}
