<?php

/**
 * Stand-in for FreePBX's dialplan builder (admin/libraries/extensions.class.php):
 * the `extensions` collection behind $ext in doDialplanHook() and the `extension`
 * and ext_* application classes, with the same text output.
 *
 * generateConf() writes, per context in insertion order:
 *   [context]
 *   include => context-custom          (unless disabled for the section)
 *   include => ... / switch => ... / #exec ...
 *   exten => EXTEN,PRIORITY[(label)],App(args)   one line per add(); first priority 1, then n
 *   <blank line after each extension>
 *   ;--== end of [context] ==--;
 *   <two blank lines>
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#[\AllowDynamicProperties]
class extensions
{
    public $_exts = [];
    public $_hints = [];
    public $_sorted = false;
    public $_section_comment = [];
    public $_section_no_custom = [];
    public $_disable_custom_contexts = false;
    public $_globals;
    public $_generals;
    public $_includes = [];
    public $_switches = [];
    public $_exec = [];

    public function get_filename()
    {
        return 'extensions_additional.conf';
    }

    /**
     * Add $command to $section/$extension. $tag is the priority label; without
     * $basetag the first command gets priority 1 and the following ones "n".
     */
    public function add($section, $extension, $tag, $command, $basetag = false, $addpriority = false)
    {
        $extension = ' ' . $extension . ' ';
        if ($basetag || $addpriority) {
            if (!is_int($addpriority) || $addpriority < 1) {
                trigger_error('$addpriority must be an integer >= 1 in extensions::add()');
                return false;
            }
            if (empty($basetag)) {
                trigger_error('$basetag is required with $addpriority in extensions::add()');
                return false;
            }
        }
        if (empty($basetag)) {
            $basetag = empty($this->_exts[$section][$extension]) ? '1' : 'n';
        }
        $this->_exts[$section][$extension][] = [
            'basetag' => $basetag,
            'tag' => $tag,
            'addpri' => $addpriority,
            'cmd' => $command,
        ];
    }

    public function addSectionComment($section, $comment)
    {
        $this->_section_comment[$section] = $comment;
    }

    public function addSectionNoCustom($section, $setting)
    {
        $this->_section_no_custom[$section] = (bool) $setting;
    }

    public function disableCustomContexts($setting)
    {
        $this->_disable_custom_contexts = (bool) $setting;
    }

    public function addHint($section, $extension, $hintvalue)
    {
        $this->_hints[$section][' ' . $extension . ' '][] = $hintvalue;
    }

    public function addGlobal($globvar, $globval)
    {
        $this->_globals[$globvar] = $globval;
    }

    public function addGeneral($genevar, $geneval)
    {
        $this->_generals[$genevar] = $geneval;
    }

    public function addInclude($section, $incsection, $comment = '')
    {
        $this->_includes[$section][] = ['include' => $incsection, 'comment' => $comment];
    }

    public function addSwitch($section, $incsection)
    {
        $this->_switches[$section][] = $incsection;
    }

    public function addExec($section, $incsection)
    {
        $this->_exec[$section][] = $incsection;
    }

    public function is_priority($num)
    {
        return ctype_digit((string) $num);
    }

    public function section_exists($section)
    {
        return isset($this->_exts[$section]);
    }

    public function generateConf()
    {
        $output = '';
        if (is_array($this->_generals)) {
            $output .= "[general]\n";
            foreach ($this->_generals as $k => $v) {
                $output .= $k . ' = ' . $v . "\n";
            }
            $output .= "#include general_custom.conf\n\n;end of [general]\n\n";
        }
        if (is_array($this->_globals)) {
            $output .= "[globals]\n";
            foreach ($this->_globals as $k => $v) {
                $output .= $k . ' = ' . $v . "\n";
            }
            $output .= "#include globals_custom.conf\n\n;end of [globals]\n\n";
        }
        foreach ($this->_exts as $section => $extensions) {
            $comment = isset($this->_section_comment[$section]) ? ' ; ' . $this->_section_comment[$section] : '';
            $output .= "[$section]$comment\n";
            if (!$this->_disable_custom_contexts && empty($this->_section_no_custom[$section])) {
                $output .= "include => {$section}-custom\n";
            }
            foreach ($this->_includes[$section] ?? [] as $include) {
                $output .= 'include => ' . $include['include'] . ($include['comment'] !== '' ? ' ; ' . $include['comment'] : '') . "\n";
            }
            foreach ($this->_switches[$section] ?? [] as $switch) {
                $output .= 'switch => ' . $switch . "\n";
            }
            foreach ($this->_exec[$section] ?? [] as $exec) {
                $output .= '#exec ' . $exec . "\n";
            }
            // When a priority-1 command outputs nothing (false), the next one takes priority 1.
            $lastBaseTag = false;
            foreach ($extensions as $extension => $idxs) {
                foreach ($idxs as $ext) {
                    if ($lastBaseTag) {
                        $ext['basetag'] = $lastBaseTag;
                        $lastBaseTag = false;
                    }
                    $cmd = $ext['cmd']->output();
                    if ($cmd !== false) {
                        $output .= 'exten => ' . trim($extension) . ','
                            . $ext['basetag']
                            . ($ext['addpri'] ? '+' . $ext['addpri'] : '')
                            . ($ext['tag'] ? '(' . $ext['tag'] . ')' : '')
                            . ',' . $cmd . "\n";
                    } else {
                        $lastBaseTag = $ext['basetag'] == 1 ? 1 : false;
                    }
                }
                foreach ($this->_hints[$section][$extension] ?? [] as $hint) {
                    $output .= 'exten => ' . trim($extension) . ',hint,' . $hint . "\n";
                }
                unset($this->_hints[$section][$extension]);
                $output .= "\n";
            }
            foreach ($this->_hints[$section] ?? [] as $extension => $hints) {
                foreach ($hints as $hint) {
                    $output .= 'exten => ' . trim($extension) . ',hint,' . $hint . "\n";
                }
            }
            $output .= ';--== end of [' . $section . "] ==--;\n\n\n";
        }
        return $output;
    }
}

/** A raw dialplan line: new extension('EAGI(script)') writes it as given. */
#[\AllowDynamicProperties]
class extension
{
    public $data;

    public function __construct($data = '')
    {
        $this->data = $data;
    }

    public function incrementContents($value)
    {
        return true;
    }

    public function output()
    {
        return $this->data;
    }
}

class ext_noop extends extension
{
    public function output()
    {
        return 'Noop(' . $this->data . ')';
    }
}

class ext_playback extends extension
{
    public function output()
    {
        return 'Playback(' . $this->data . ')';
    }
}

class ext_wait extends extension
{
    public function output()
    {
        return 'Wait(' . $this->data . ')';
    }
}

class ext_hangup extends extension
{
    public function output()
    {
        return 'Hangup(' . $this->data . ')';
    }
}

/** Writes "Answer" without parentheses, like FreePBX. */
class ext_answer extends extension
{
    public function output()
    {
        return 'Answer';
    }
}

class ext_return extends extension
{
    public function output()
    {
        return 'Return(' . $this->data . ')';
    }
}

/**
 * AGI(script). With the FastAGI setting on (LAUNCH_AGI_AS_FASTAGI, FreePBX 17) the
 * script is prefixed with agi://127.0.0.1/ unless it already is an agi:// URL. A
 * FastAGI connection carries no audio: write EAGI lines raw with `extension`.
 */
class ext_agi extends extension
{
    public function output()
    {
        $fast = \FreePBX::Config()->get('LAUNCH_AGI_AS_FASTAGI');
        $fast = $fast === true || $fast === 1 || $fast === '1' || (is_string($fast) && strtolower($fast) === 'true');
        $data = $fast && !preg_match('/^agi:\/\//', (string) $this->data) ? 'agi://127.0.0.1/' . $this->data : $this->data;
        return 'AGI(' . $data . ')';
    }
}

#[\AllowDynamicProperties]
class ext_goto extends extension
{
    public $pri;
    public $ext;
    public $context;

    public function __construct($pri, $ext = false, $context = false)
    {
        if ($context !== false && $ext === false) {
            trigger_error('$ext is required when passing $context in ext_goto::ext_goto()');
        }
        $this->pri = $pri;
        $this->ext = $ext;
        $this->context = $context;
    }

    public function incrementContents($value)
    {
        $this->pri += $value;
    }

    public function gotoEmpty($value)
    {
        return $value === '' || $value === null || $value === false;
    }

    public function output()
    {
        return 'Goto(' . (!$this->gotoEmpty($this->context) ? $this->context . ',' : '')
            . (!$this->gotoEmpty($this->ext) ? $this->ext . ',' : '') . $this->pri . ')';
    }
}

#[\AllowDynamicProperties]
class ext_gotoif extends extension
{
    public $true_priority;
    public $false_priority;
    public $condition;

    public function __construct($condition, $true_priority, $false_priority = false)
    {
        $this->true_priority = $true_priority;
        $this->false_priority = $false_priority;
        $this->condition = $condition;
    }

    public function incrementContents($value)
    {
        $this->true_priority += $value;
        $this->false_priority += $value;
    }

    public function output()
    {
        return 'GotoIf(' . $this->condition . '?' . $this->true_priority
            . ($this->false_priority ? ':' . $this->false_priority : '') . ')';
    }
}

#[\AllowDynamicProperties]
class ext_gosub extends extension
{
    public $pri;
    public $ext;
    public $context;
    public $args;

    public function __construct($pri, $ext = false, $context = false, $args = '')
    {
        if ($context !== false && $ext === false) {
            trigger_error('$ext is required when passing $context in ext_gosub::ext_gosub()');
        }
        $this->pri = $pri;
        $this->ext = $ext;
        $this->context = $context;
        $this->args = $args;
    }

    public function incrementContents($value)
    {
        $this->pri += $value;
    }

    public function output()
    {
        return 'Gosub(' . ($this->context ? $this->context . ',' : '') . ($this->ext ? $this->ext . ',' : '')
            . $this->pri . '(' . $this->args . '))';
    }
}

#[\AllowDynamicProperties]
class ext_execif
{
    public $expr;
    public $app_true;
    public $data_true;
    public $app_false;
    public $data_false;

    public function __construct($expr, $app_true, $data_true = '', $app_false = '', $data_false = '')
    {
        $this->expr = $expr;
        $this->app_true = $app_true;
        $this->data_true = $data_true;
        $this->app_false = $app_false;
        $this->data_false = $data_false;
    }

    public function output()
    {
        if ($this->app_false != '') {
            return "ExecIf({$this->expr}?{$this->app_true}({$this->data_true}):{$this->app_false}({$this->data_false}))";
        }
        return "ExecIf({$this->expr}?{$this->app_true}({$this->data_true}))";
    }
}

/** Set(var=value). Not derived from `extension` in FreePBX either. */
#[\AllowDynamicProperties]
class ext_setvar
{
    public $var;
    public $value;

    public function __construct($var, $value = '')
    {
        $this->var = $var;
        $this->value = $value;
    }

    public function output()
    {
        return 'Set(' . $this->var . '=' . $this->value . ')';
    }
}

class ext_set extends ext_setvar
{
}
