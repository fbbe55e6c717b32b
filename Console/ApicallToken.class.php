<?php

/**
 * fwconsole apicall:token [--regenerate]
 *
 * Prints the module's API token (only the token, so `TOKEN=$(fwconsole apicall:token)`
 * works). --regenerate replaces it first: the old token stops working at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\ConsoleOutputInterface;
use Symfony\Component\Console\Output\OutputInterface;

class ApicallToken extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:token')
            ->setDescription(_('Show the API token of API Call, or replace it'))
            ->setDefinition([
                new InputOption('regenerate', null, InputOption::VALUE_NONE, _('Replace the token first; the old one stops working at once')),
            ])
            ->setHelp(_('Prints the token applications send in the "token" header of index.php, aibot.php and cdr.php requests.'));
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $module = \FreePBX::Apicall();
        $err = $output instanceof ConsoleOutputInterface ? $output->getErrorOutput() : $output;
        if ($input->getOption('regenerate')) {
            $token = $module->regenerateToken();
            $err->writeln('<comment>' . _('New token created; the old one no longer works.') . '</comment>');
        } else {
            $token = $module->getToken();
            if ($token === '') {
                $err->writeln('<error>' . _('API Call has no token: install the module (fwconsole ma install apicall).') . '</error>');
                return 1;
            }
        }
        $output->writeln($token);
        return 0;
    }
}
