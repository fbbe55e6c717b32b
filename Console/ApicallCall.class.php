<?php

/**
 * fwconsole apicall:call NUMBER [--message TEXT] [--language L] [--callerid C]
 *
 * A test call from the shell, placed exactly as index.php places one (the extension's
 * Apicall\originate with the module's configuration): the number is dialed through the
 * dial context and hears the message.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\ConsoleOutputInterface;
use Symfony\Component\Console\Output\OutputInterface;

class ApicallCall extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:call')
            ->setDescription(_('Place a test call through API Call'))
            ->setDefinition([
                new InputArgument('number', InputArgument::REQUIRED, _('Number to call (digits, * and #, optional leading +)')),
                new InputOption('message', 'm', InputOption::VALUE_REQUIRED, _('Text spoken when the call is answered')),
                new InputOption('language', 'l', InputOption::VALUE_REQUIRED, _('Language of the message (default: the module setting)')),
                new InputOption('callerid', 'c', InputOption::VALUE_REQUIRED, _('Caller ID: number or "Name <number>"')),
            ])
            ->setHelp(_('Places the call as POST index.php would and prints its id. Follow it in the Asterisk log.'));
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $err = $output instanceof ConsoleOutputInterface ? $output->getErrorOutput() : $output;
        $more = [];
        foreach (['language', 'callerid'] as $field) {
            if ($input->getOption($field) !== null) {
                $more[$field] = (string) $input->getOption($field);
            }
        }
        $message = $input->getOption('message');
        try {
            $result = \FreePBX::Apicall()->placeTestCall((string) $input->getArgument('number'), $message !== null ? (string) $message : null, $more);
        } catch (\Throwable $e) {
            $code = property_exists($e, 'error') && is_string($e->error) && $e->error !== '' ? $e->error : get_class($e);
            $field = property_exists($e, 'field') && is_string($e->field) ? " ({$e->field})" : '';
            $err->writeln('<error>' . sprintf(_('Call not placed: %s%s: %s'), $code, $field, $e->getMessage()) . '</error>');
            return 1;
        }
        $output->writeln(sprintf(_('Call %s to %s: %s'), $result['id'] ?? '?', (string) $input->getArgument('number'), $result['status'] ?? '?'));
        return 0;
    }
}
