<?php

/**
 * fwconsole apicall:stt FILE [--lang L] [--hint PHRASE]...
 *
 * Transcribes a WAV (or MP3) file with the configured speech-to-text providers in their
 * fallback order and prints the JSON of the module's command-line tool (`apicall stt`):
 * text, alternatives, provider, ms. --lang defaults to the default_language setting;
 * each --hint is a phrase the speaker is likely to say. Exit status: the tool's (0
 * transcribed, 1 every provider failed, 2 usage or unreadable audio), 127 when the tool
 * is missing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

require_once __DIR__ . '/../includes/console.php';

class ApicallStt extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:stt')
            ->setDescription(_('Transcribe an audio file with the speech providers of API Call (JSON)'))
            ->setDefinition([
                new InputArgument('file', InputArgument::REQUIRED, _('The WAV or MP3 file')),
                new InputOption('lang', 'l', InputOption::VALUE_REQUIRED, _('Language, e.g. en-US, it (default: the default_language setting)')),
                new InputOption('hint', null, InputOption::VALUE_REQUIRED | InputOption::VALUE_IS_ARRAY, _('A phrase the speaker is likely to say (repeatable)')),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $args = ['stt', '--lang', (string) ($input->getOption('lang') ?? \FreePBX::Apicall()->getSetting('default_language'))];
        foreach ((array) $input->getOption('hint') as $hint) {
            $args[] = '--hint';
            $args[] = (string) $hint;
        }
        $args[] = '--';
        $args[] = (string) $input->getArgument('file');
        return \Apicall\CliCommand::relay($output, $args, 120.0);
    }
}
