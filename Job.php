<?php

/**
 * The module's job for FreePBX 17's job runner (`fwconsole job --run`, started every
 * minute by the asterisk user's crontab): delivers the status events that are due in
 * the durable outbox. Registered by Apicall::install() (Job->addClass), removed with the
 * module.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\modules\Apicall;

use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

class Job implements \FreePBX\Job\TaskInterface
{
    public static function run(InputInterface $input, OutputInterface $output)
    {
        try {
            $summary = \FreePBX::Apicall()->deliverOutbox(50);
        } catch (\Throwable $e) {
            $output->writeln('apicall outbox: ' . $e->getMessage());
            return false;
        }
        $output->writeln('apicall outbox: ' . json_encode($summary));
        return true;
    }
}
