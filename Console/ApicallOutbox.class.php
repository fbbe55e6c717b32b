<?php

/**
 * fwconsole apicall:outbox [--seconds N]
 *
 * Delivers the status events that are due in the module's durable outbox (table
 * apicall_outbox): each pending event is retried with backoff until it is delivered,
 * has failed webhook_retries times or is older than status_event_ttl_hours. FreePBX's
 * job runner does the same every minute (Job.php); this command runs it by hand.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

class ApicallOutbox extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:outbox')
            ->setDescription(_('Deliver the pending status events of API Call'))
            ->setDefinition([
                new InputOption('seconds', 's', InputOption::VALUE_REQUIRED, _('Stop after this many seconds'), '50'),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $seconds = (string) $input->getOption('seconds');
        if (!ctype_digit($seconds) || (int) $seconds < 1 || (int) $seconds > 3600) {
            $output->writeln('<error>' . _('--seconds must be 1 to 3600') . '</error>');
            return 2;
        }
        try {
            $summary = \FreePBX::Apicall()->deliverOutbox((int) $seconds);
        } catch (\Throwable $e) {
            $output->writeln('<error>' . sprintf(_('Outbox not delivered: %s'), $e->getMessage()) . '</error>');
            return 1;
        }
        $parts = [];
        foreach ($summary as $k => $v) {
            $parts[] = "$k $v";
        }
        $output->writeln(_('Outbox:') . ' ' . implode(', ', $parts));
        return 0;
    }
}
