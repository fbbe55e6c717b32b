<?php

/**
 * fwconsole apicall:providers
 *
 * Lists the configured speech providers (settings tts_provider, stt_provider) and whether
 * each one answers, as JSON: the module's command-line tool `apicall providers` with the
 * module's settings. Exit status: the tool's (0 all answer, 1 one does not, 2 settings),
 * 127 when the tool is missing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

require_once __DIR__ . '/../includes/console.php';

class ApicallProviders extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:providers')
            ->setDescription(_('List the speech providers of API Call and whether each one answers (JSON)'));
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        return \Apicall\CliCommand::relay($output, ['providers'], 30.0);
    }
}
