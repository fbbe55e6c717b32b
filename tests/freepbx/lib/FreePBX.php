<?php

/**
 * The global BMO names of FreePBX 17 (non-namespaced aliases kept for modules)
 * and the \FreePBX singleton.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

interface BMO extends FreePBX\BMO
{
}

#[\AllowDynamicProperties]
class FreePBX_Helpers extends FreePBX\FreePBX_Helpers
{
}

#[\AllowDynamicProperties]
class Request_Helper extends FreePBX\Request_Helper
{
}

#[\AllowDynamicProperties]
class DB_Helper extends FreePBX\DB_Helper
{
}

/**
 * The BMO object. Built once by the bootstrap with $amp_conf; FreePBX::create()
 * returns it and FreePBX::Name() returns the BMO object "Name" (library or module).
 * The constructor connects to the database at once, so an unreachable database
 * makes the bootstrap throw (die_freepbx), as in FreePBX.
 */
#[\AllowDynamicProperties]
class FreePBX extends FreePBX\FreePBX_Helpers
{
    private static $obj;
    public static $conf;

    public function __construct(&$conf = null)
    {
        if (empty($conf)) {
            global $amp_conf;
            if (empty($amp_conf)) {
                throw new Exception('conf was empty!');
            }
            $conf = $amp_conf;
        }
        self::$conf = $conf;
        self::$obj = $this;
        foreach (['Database', 'Modules'] as $lib) {
            $class = '\\FreePBX\\' . $lib;
            $this->$lib = new $class($this);
        }
    }

    public static function create()
    {
        if (!isset(self::$obj)) {
            self::$obj = new FreePBX();
        }
        return self::$obj;
    }

    public static function __callStatic($name, $var)
    {
        return FreePBX::create()->$name;
    }

    /** The stand-in's tests rebuild the singleton with another $amp_conf. */
    public static function resetStandIn()
    {
        self::$obj = null;
        FreePBX\DB_Helper::resetStandIn();
    }
}
