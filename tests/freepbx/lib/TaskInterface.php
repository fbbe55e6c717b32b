<?php

/**
 * FreePBX 17's interface of job classes (FreePBX\Job\TaskInterface): the job runner
 * calls the static run($input, $output) and reads true (done) or false (failed).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Job;

use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

interface TaskInterface
{
    public static function run(InputInterface $input, OutputInterface $output);
}
