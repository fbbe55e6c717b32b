<?php

/**
 * fwconsole apicall:tts TEXT [--lang L] [--voice V] [--out FILE]
 *
 * Speaks TEXT into a WAV (8 kHz mono, what Asterisk plays) with the configured
 * text-to-speech providers in their fallback order, and prints the JSON of the module's
 * command-line tool (`apicall tts`): provider, file, seconds, ms, the providers that failed.
 * Defaults: --lang the default_language setting, --voice default_voice, --out
 * apicall-tts-<time>.wav in the temporary folder. Exit status: the tool's (0 spoken,
 * 1 every provider failed, 2 usage), 127 when the tool is missing.
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

class ApicallTts extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:tts')
            ->setDescription(_('Speak a text into a WAV file with the speech providers of API Call (JSON)'))
            ->setDefinition([
                new InputArgument('text', InputArgument::REQUIRED, _('The text to speak')),
                new InputOption('lang', 'l', InputOption::VALUE_REQUIRED, _('Language, e.g. en-US, it (default: the default_language setting)')),
                new InputOption('voice', null, InputOption::VALUE_REQUIRED, _('A voice of the engine (default: the default_voice setting)')),
                new InputOption('out', 'o', InputOption::VALUE_REQUIRED, _('The WAV file to write (default: apicall-tts-<time>.wav in the temporary folder)')),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $apicall = \FreePBX::Apicall();
        $out = $input->getOption('out') ?? sys_get_temp_dir() . '/apicall-tts-' . date('Ymd-His') . '.wav';
        $args = ['tts', '--lang', (string) ($input->getOption('lang') ?? $apicall->getSetting('default_language')),
            '--output', (string) $out];
        if ($input->getOption('voice') !== null) {
            $args[] = '--voice';
            $args[] = (string) $input->getOption('voice');
        }
        // After `--`, a text starting with '-' is still the text.
        $args[] = '--';
        $args[] = (string) $input->getArgument('text');
        return \Apicall\CliCommand::relay($output, $args, 120.0);
    }
}
