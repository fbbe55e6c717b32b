<?php

/**
 * fwconsole apicall:status [--json]
 *
 * Checks what API Call needs and prints one line per check, OK or the reason it failed:
 * the PHP extension (loaded, version; why not, e.g. a missing libmp3lame0), Asterisk
 * (AMI login with AMPMGRUSER/AMPMGRPASS), the database, the public folder, the token,
 * the local speech service ({stt_url}/health) and every configured speech provider.
 * Exit status 0 when all are OK, 1 otherwise.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

class ApicallStatus extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:status')
            ->setDescription(_('Check the PHP extension, Asterisk, the database and the speech providers of API Call'))
            ->setDefinition([
                new InputOption('json', null, InputOption::VALUE_NONE, _('Print the checks as JSON')),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $checks = \FreePBX::Apicall()->statusReport();
        $failed = count(array_filter($checks, static fn ($c) => !$c[1]));
        if ($input->getOption('json')) {
            $list = array_map(static fn ($c) => ['check' => $c[0], 'ok' => $c[1], 'detail' => $c[2]], $checks);
            $output->writeln((string) json_encode(['ok' => $failed === 0, 'checks' => $list], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
            return $failed === 0 ? 0 : 1;
        }
        $width = max(array_map(static fn ($c) => strlen($c[0]), $checks));
        foreach ($checks as [$name, $ok, $detail]) {
            $tag = $ok ? '<info>OK  </info>' : '<error>FAIL</error>';
            $output->writeln(sprintf('%s  %s  %s', $tag, str_pad($name, $width), $detail));
        }
        $output->writeln(sprintf(_('%d checks, %d failed'), count($checks), $failed));
        return $failed === 0 ? 0 : 1;
    }
}
