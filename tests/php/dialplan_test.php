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

/** The module's dialplan as FreePBX would write it. */
function module_dialplan(): string
{
    $ext = new \extensions();
    (new \FreePBX\modules\Apicall(new \stdClass()))->doDialplanHook($ext, 'asterisk', 500);
    return $ext->generateConf();
}

/** The text of one context of generateConf()'s output, header to end marker. */
function context_text(string $conf, string $context): string
{
    $start = strpos($conf, "[$context]\n");
    $endMark = ";--== end of [$context] ==--;\n\n\n";
    $end = strpos($conf, $endMark);
    if ($start === false || $end === false) {
        fail("context [$context] not found in:\n$conf");
    }
    return substr($conf, $start, $end + strlen($endMark) - $start);
}

test('doDialplanHook writes [apicall-message] exactly as the contract says', function (): void {
    $expected = "[apicall-message]\n"
        . "include => apicall-message-custom\n"
        . "exten => s,1,Noop(apicall \${APICALL_ID})\n"
        . "exten => s,n,GotoIf(\$[\"\${APICALL_MESSAGE}\" = \"\"]?dest)\n"
        . "exten => s,n,Playback(\${APICALL_MESSAGE})\n"
        . "exten => s,n(dest),Goto(\${APICALL_DEST_CONTEXT},\${APICALL_DEST_EXTEN},\${APICALL_DEST_PRIORITY})\n"
        . "\n"
        . ";--== end of [apicall-message] ==--;\n\n\n";
    eq($expected, context_text(module_dialplan(), 'apicall-message'));
});

test('doDialplanHook writes [apicall-aibot] exactly as contract-aibot says (EAGI/AGI raw)', function (): void {
    $expected = "[apicall-aibot]\n"
        . "include => apicall-aibot-custom\n"
        . "exten => s,1,Noop(apicall aibot \${APICALL_ID})\n"
        . "exten => s,n,Set(APICALL_GOTO_CONTEXT=app-blackhole)\n"
        . "exten => s,n,Set(APICALL_GOTO_EXTEN=hangup)\n"
        . "exten => s,n,Set(APICALL_GOTO_PRIORITY=1)\n"
        . "exten => s,n,Set(CHANNEL(hangup_handler_push)=apicall-hangup,s,1)\n"
        . "exten => s,n,EAGI(apicall.php,session)\n"
        . "exten => s,n,Goto(\${APICALL_GOTO_CONTEXT},\${APICALL_GOTO_EXTEN},\${APICALL_GOTO_PRIORITY})\n"
        . "\n"
        . "exten => failed,1,AGI(apicall.php,failed)\n"
        . "exten => failed,n,Hangup()\n"
        . "\n"
        . ";--== end of [apicall-aibot] ==--;\n\n\n";
    eq($expected, context_text(module_dialplan(), 'apicall-aibot'));
});

test('doDialplanHook writes [apicall-hangup] exactly as contract-aibot says', function (): void {
    $expected = "[apicall-hangup]\n"
        . "include => apicall-hangup-custom\n"
        . "exten => s,1,AGI(apicall.php,hangup)\n"
        . "exten => s,n,Return()\n"
        . "\n"
        . ";--== end of [apicall-hangup] ==--;\n\n\n";
    eq($expected, context_text(module_dialplan(), 'apicall-hangup'));
});

test('the module\'s dialplan is exactly its three contexts, in order', function (): void {
    $conf = module_dialplan();
    eq(
        context_text($conf, 'apicall-message') . context_text($conf, 'apicall-aibot') . context_text($conf, 'apicall-hangup'),
        $conf
    );
});

test('the AGI lines stay plain AGI/EAGI even with FreePBX 17\'s FastAGI setting on', function (): void {
    // ext_agi would write AGI(agi://127.0.0.1/...) then; FastAGI carries no audio and
    // does not run the module's scripts. The module must not use ext_agi.
    $src = (string) file_get_contents(repo() . '/Apicall.class.php');
    ok(preg_match('/new\s+\\\\?ext_agi\b/', $src) === 0, 'Apicall.class.php does not use ext_agi');
    ok(strpos(module_dialplan(), 'agi://') === false, 'no FastAGI URL in the dialplan');
    $script = \FreePBX\modules\Apicall::AGI_SCRIPT;
    ok(is_file(repo() . "/agi-bin/$script"), "agi-bin/$script exists (fwconsole reload copies it)");
});

test('doDialplanHook only touches its own contexts', function (): void {
    $ext = new \extensions();
    $ext->add('from-internal-additional', 'h', '', new \ext_hangup(''));
    (new \FreePBX\modules\Apicall(new \stdClass()))->doDialplanHook($ext, 'asterisk', 500);
    eq(['from-internal-additional', 'apicall-message', 'apicall-aibot', 'apicall-hangup'], array_keys($ext->_exts));
    eq([' h '], array_keys($ext->_exts['from-internal-additional']));
    eq([' s '], array_keys($ext->_exts['apicall-message']));
    eq([' s ', ' failed '], array_keys($ext->_exts['apicall-aibot']));
    eq([' s '], array_keys($ext->_exts['apicall-hangup']));
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
