<?php

/**
 * Shared by the fwconsole commands that wrap the module's command-line tool (apicall:tts,
 * apicall:stt, apicall:providers): runs it with the module's settings and relays its JSON
 * (stdout), its messages (stderr) and its exit status.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace Apicall;

use Symfony\Component\Console\Output\ConsoleOutputInterface;
use Symfony\Component\Console\Output\OutputInterface;

final class CliCommand
{
    /** @param string[] $args the tool's arguments after `--config -` */
    public static function relay(OutputInterface $output, array $args, float $timeout = 120.0): int
    {
        [$code, $out, $err] = \FreePBX::Apicall()->runCli($args, $timeout);
        if ($out !== '') {
            $output->write($out, false, OutputInterface::OUTPUT_RAW);
        }
        if ($err !== '') {
            $errOut = $output instanceof ConsoleOutputInterface ? $output->getErrorOutput() : $output;
            $errOut->writeln(rtrim($err), OutputInterface::OUTPUT_RAW);
        }
        return $code;
    }
}
