<?php

/**
 * The module's dialplan (Apicall::doDialplanHook) and the stand-in's dialplan
 * classes, which must format lines exactly like FreePBX's extensions.class.php.
 * No database needed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

load_framework_classes();
require_once repo() . '/Apicall.class.php';

test('myDialplanHooks() asks for the default priority', function (): void {
    eq(true, \FreePBX\modules\Apicall::myDialplanHooks());
});

test('doDialplanHook writes [apicall-message] exactly as the contract says', function (): void {
    $ext = new \extensions();
    $module = new \FreePBX\modules\Apicall(new \stdClass());
    $module->doDialplanHook($ext, 'asterisk', 500);
    $expected = "[apicall-message]\n"
        . "include => apicall-message-custom\n"
        . "exten => s,1,Noop(apicall \${APICALL_ID})\n"
        . "exten => s,n,GotoIf(\$[\"\${APICALL_MESSAGE}\" = \"\"]?dest)\n"
        . "exten => s,n,Playback(\${APICALL_MESSAGE})\n"
        . "exten => s,n(dest),Goto(\${APICALL_DEST_CONTEXT},\${APICALL_DEST_EXTEN},\${APICALL_DEST_PRIORITY})\n"
        . "\n"
        . ";--== end of [apicall-message] ==--;\n\n\n";
    eq($expected, $ext->generateConf());
});

test('doDialplanHook only touches its own context', function (): void {
    $ext = new \extensions();
    $ext->add('from-internal-additional', 'h', '', new \ext_hangup(''));
    (new \FreePBX\modules\Apicall(new \stdClass()))->doDialplanHook($ext, 'asterisk', 500);
    eq(['from-internal-additional', 'apicall-message'], array_keys($ext->_exts));
    eq([' h '], array_keys($ext->_exts['from-internal-additional']));
    eq([' s '], array_keys($ext->_exts['apicall-message']));
});

test('extensions::add numbers priorities 1 then n, labels in parentheses', function (): void {
    $ext = new \extensions();
    $ext->add('ctx', '_2XXX', '', new \ext_answer(''));
    $ext->add('ctx', '_2XXX', 'again', new \ext_wait('1'));
    $ext->add('ctx', '_2XXX', '', new \ext_set('CDR(userfield)', 'dest:${APICALL_ID}'));
    $ext->add('ctx', '_2XXX', '', new \ext_goto('again'));
    $ext->add('ctx', 'h', '', new \ext_hangup(''));
    $ext->add('other', 's', '', new \extension('EAGI(apicall.php)'));
    $ext->addSectionNoCustom('other', true);
    $expected = "[ctx]\ninclude => ctx-custom\n"
        . "exten => _2XXX,1,Answer\n"
        . "exten => _2XXX,n(again),Wait(1)\n"
        . "exten => _2XXX,n,Set(CDR(userfield)=dest:\${APICALL_ID})\n"
        . "exten => _2XXX,n,Goto(again)\n"
        . "\n"
        . "exten => h,1,Hangup()\n"
        . "\n"
        . ";--== end of [ctx] ==--;\n\n\n"
        . "[other]\n"
        . "exten => s,1,EAGI(apicall.php)\n"
        . "\n"
        . ";--== end of [other] ==--;\n\n\n";
    eq($expected, $ext->generateConf());
});

test('ext_goto / ext_gotoif / ext_noop / ext_playback / ext_setvar output', function (): void {
    eq('Goto(ctx,s,1)', (new \ext_goto('1', 's', 'ctx'))->output());
    eq('Goto(s,2)', (new \ext_goto('2', 's'))->output());
    eq('Goto(3)', (new \ext_goto('3'))->output());
    eq('Goto(app-blackhole,hangup,1)', (new \ext_goto(1, 'hangup', 'app-blackhole'))->output());
    eq('GotoIf($[${X} = 1]?yes:no)', (new \ext_gotoif('$[${X} = 1]', 'yes', 'no'))->output());
    eq('GotoIf($[${X} = 1]?yes)', (new \ext_gotoif('$[${X} = 1]', 'yes'))->output());
    eq('Noop(hello)', (new \ext_noop('hello'))->output());
    eq('Playback(beep&silence/1)', (new \ext_playback('beep&silence/1'))->output());
    eq('Set(A=b)', (new \ext_setvar('A', 'b'))->output());
    eq('Set(A=)', (new \ext_set('A'))->output());
    eq('Wait(2)', (new \ext_wait(2))->output());
    eq('Hangup(16)', (new \ext_hangup('16'))->output());
    eq('Gosub(sub,s,1(a,b))', (new \ext_gosub('1', 's', 'sub', 'a,b'))->output());
    eq('Return()', (new \ext_return(''))->output());
    eq('ExecIf($[1]?Set(A=1))', (new \ext_execif('$[1]', 'Set', 'A=1'))->output());
    eq('ExecIf($[1]?Set(A=1):Set(A=2))', (new \ext_execif('$[1]', 'Set', 'A=1', 'Set', 'A=2'))->output());
});

test('a command writing nothing (false) passes priority 1 to the next one', function (): void {
    $ext = new \extensions();
    $ext->add('c', 's', '', new class ('') extends \extension {
        public function output()
        {
            return false;
        }
    });
    $ext->add('c', 's', '', new \ext_noop('first real'));
    contains("exten => s,1,Noop(first real)\n", $ext->generateConf());
});

test('globals and hints are written like FreePBX', function (): void {
    $ext = new \extensions();
    $ext->addGlobal('APICALL', '1');
    $ext->add('c', '200', '', new \ext_noop('x'));
    $ext->addHint('c', '200', 'PJSIP/200');
    $conf = $ext->generateConf();
    contains("[globals]\nAPICALL = 1\n#include globals_custom.conf\n\n;end of [globals]\n\n", $conf);
    contains("exten => 200,1,Noop(x)\nexten => 200,hint,PJSIP/200\n\n", $conf);
});
