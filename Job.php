<?php

/**
 * The module's job for FreePBX 17's job runner (`fwconsole job --run`, started every
 * minute by the asterisk user's crontab): delivers the status events that are due in
 * the durable outbox, and watches the local speech service (when it is installed and in
 * use, not stopped on purpose, and its /health fails: restarts it and logs why, in the
 * job's output and in $ASTLOGDIR/apicall.log), and deletes recorded answers past
 * answer_retention_days (a new answer sweeps too, but calls may stop coming; the retention
 * promise must hold anyway). Registered by Apicall::install()
 * (Job->addClass), removed with the module.
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
        $apicall = \FreePBX::Apicall();
        $ok = true;
        try {
            [$speechOk, $said] = $apicall->speechWatchdog();
            foreach (array_filter(explode("\n", $said)) as $line) {
                $output->writeln('apicall speech: ' . $line, OutputInterface::OUTPUT_RAW);
            }
            $ok = $speechOk;
        } catch (\Throwable $e) {
            $output->writeln('apicall speech: ' . $e->getMessage(), OutputInterface::OUTPUT_RAW);
            $ok = false;
        }
        try {
            // Silent when nothing was old enough: the job runs every minute.
            if (function_exists('Apicall\\answers_sweep')) {
                $deleted = \Apicall\answers_sweep($apicall->coreConfig());
                if ($deleted > 0) {
                    $output->writeln("apicall answers: deleted $deleted past answer_retention_days");
                }
            }
        } catch (\Throwable $e) {
            $output->writeln('apicall answers: ' . $e->getMessage());
            $ok = false;
        }
        try {
            $summary = $apicall->deliverOutbox(50);
        } catch (\Throwable $e) {
            $output->writeln('apicall outbox: ' . $e->getMessage());
            return false;
        }
        $output->writeln('apicall outbox: ' . json_encode($summary));
        return $ok;
    }
}
