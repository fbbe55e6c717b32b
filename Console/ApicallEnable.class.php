<?php

/**
 * fwconsole apicall:enable   (as root)
 *
 * Installs the PHP extension this copy of the module ships (ext/apicall.so, PHP 8.2
 * x86_64): checks that it loads (it needs the Debian package libmp3lame0), copies it into
 * PHP's extension directory, writes /etc/php/8.2/mods-available/apicall.ini, enables it
 * for Apache and the CLI (phpenmod) and restarts Apache. Module install does the same
 * when it runs as root; run this when it did not (Module Admin in the browser).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

class ApicallEnable extends Command
{
    protected function configure(): void
    {
        $this->setName('apicall:enable')
            ->setDescription(_('Install and enable the PHP extension of API Call (run as root)'));
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        [$ok, $lines] = \FreePBX::Apicall()->enableExtension();
        foreach ($lines as $line) {
            $output->writeln($ok ? $line : "<error>$line</error>");
        }
        return $ok ? 0 : 1;
    }
}
