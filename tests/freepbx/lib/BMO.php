<?php

/**
 * Stand-in for FreePBX 17's BMO helper chain and the BMO object itself:
 *
 *   \FreePBX\DB_Helper <- \FreePBX\Self_Helper <- \FreePBX\Request_Helper <- \FreePBX\FreePBX_Helpers
 *   interface \FreePBX\BMO (install, uninstall, backup, restore)
 *   global aliases \BMO, \FreePBX_Helpers, \Request_Helper, \DB_Helper
 *   class \FreePBX: the singleton (FreePBX::create()), FreePBX::Name() returns the BMO object
 *   "Name": a framework library (Database, Config, Modules, ...) or a module class
 *   \FreePBX\modules\Name loaded from $AMPWEBROOT/admin/modules/<module>/Name.class.php
 *   of an ACTIVE module (or injected with injectClass(name, path), as the installer does).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX;

#[\AllowDynamicProperties]
class Self_Helper extends DB_Helper
{
    private $moduleNamespace = '\\FreePBX\\modules\\';

    public function __construct($freepbx = null)
    {
        if (!is_object($freepbx)) {
            throw new \Exception('Need to be instantiated with a FreePBX Object');
        }
        $this->FreePBX = \FreePBX::create();
    }

    public function __get($var)
    {
        $bmo = \FreePBX::create();
        if ($bmo !== $this && isset($bmo->$var)) {
            $this->$var = $bmo->$var;
            return $this->$var;
        }
        return $this->autoLoad($var);
    }

    public function __call($var, $args)
    {
        return $this->autoLoad($var, $args);
    }

    /** Load a class from $hint (a file) and create its BMO object. */
    public function injectClass($classname, $hint = null)
    {
        $this->loadObject($classname, $hint);
        $this->autoLoad($classname);
    }

    private function autoLoad(...$args)
    {
        if (count($args) === 0) {
            throw new \Exception('Nothing given to the AutoLoader');
        }
        $var = $args[0];
        if ($var === 'FreePBX') {
            throw new \Exception("No. You ALREADY HAVE the FreePBX Object. You don't need another one.");
        }
        if (strpos($var, '/') !== false || strpos($var, '..') !== false) {
            throw new \Exception("Invalid include given to AutoLoader - $var");
        }
        $this->loadObject($var);
        $class = $this->resolveClass($var);
        if ($var[0] !== strtoupper($var[0])) {
            throw new \Exception(sprintf(_('BMO Objects must have their first letter captialized. You provided %s'), $var));
        }
        $bmo = \FreePBX::create();
        if (isset($args[1][0])) {
            if (isset($args[1][1])) {
                throw new \Exception(_("Multiple params to autoload (__call) not supported. Don't do that. Or re-write this."));
            }
            $this->$var = new $class($bmo, $args[1][0]);
            return $this->$var;
        }
        $obj = new $class($bmo);
        $this->$var = $obj;
        $bmo->$var = $obj;
        return $obj;
    }

    private function resolveClass($objname)
    {
        foreach ([$this->moduleNamespace . $objname, '\\FreePBX\\' . $objname, $objname] as $candidate) {
            if (class_exists($candidate)) {
                return $candidate;
            }
        }
        throw new \Exception(sprintf(_("Unable to locate the FreePBX BMO Class '%s'"), $objname));
    }

    private function loadObject($objname, $hint = null)
    {
        $objname = str_replace('FreePBX\\modules\\', '', $objname);
        foreach ([$this->moduleNamespace . $objname, '\\FreePBX\\' . $objname] as $candidate) {
            if (class_exists($candidate)) {
                return true;
            }
        }
        if ($hint !== null) {
            if (!file_exists($hint)) {
                throw new \Exception(sprintf(_("Attempted to load %s with a hint of %s and it didn't exist"), $objname, $hint));
            }
            include_once $hint;
            $try = $hint;
        } else {
            // A module, hopefully: look through the active modules.
            $bmo = \FreePBX::create();
            $path = $bmo->Config->get('AMPWEBROOT') . '/admin/modules/';
            $try = false;
            foreach (array_keys($bmo->Modules->getActiveModules()) as $module) {
                $file = $path . $module . '/' . $objname . '.class.php';
                if (file_exists($file)) {
                    include_once $file;
                    $try = $file;
                    break;
                }
            }
            if ($try === false) {
                $low = strtolower($objname);
                throw new \Exception(
                    sprintf(_("Unable to locate the FreePBX BMO Class '%s'"), $objname)
                    . sprintf(
                        _('A required module might be disabled or uninstalled. Recommended steps (run from the CLI): 1) fwconsole ma install %s 2) fwconsole ma enable %s'),
                        $low,
                        $low
                    )
                );
            }
        }
        if (!class_exists($this->moduleNamespace . $objname) && !class_exists($objname)) {
            throw new \Exception(sprintf(_("Attempted to load %s but it didn't define the class %s"), $try, $objname));
        }
        return true;
    }
}

#[\AllowDynamicProperties]
class Request_Helper extends Self_Helper
{
    /** $_REQUEST[$var] (trimmed string) or $def. */
    public function getReq($var, $def = null)
    {
        if (!isset($_REQUEST[$var])) {
            return $def;
        }
        $v = $_REQUEST[$var];
        return is_string($v) ? trim($v) : $v;
    }

    public function getReqUnsafe($var, $def = null)
    {
        return $_REQUEST[$var] ?? $def;
    }
}

#[\AllowDynamicProperties]
class FreePBX_Helpers extends Request_Helper
{
}

interface BMO
{
    public function install();

    public function uninstall();

    public function backup();

    public function restore($backup);
}
