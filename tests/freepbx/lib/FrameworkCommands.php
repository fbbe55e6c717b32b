<?php

/**
 * The framework's own fwconsole commands the stand-in offers, on top of the module
 * commands: `ma` (moduleadmin: install, uninstall, list) and `reload`, doing what
 * tools/install-module.php, uninstall-module.php and reload.php do.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

require_once __DIR__ . '/ModuleAdmin.php';

class Moduleadmin extends Command
{
    protected function configure(): void
    {
        $this->setName('ma')
            ->setAliases(['moduleadmin'])
            ->setDescription('Module Administration (stand-in: install, uninstall, list)')
            ->setDefinition([
                new InputArgument('args', InputArgument::IS_ARRAY, 'install|uninstall MODULE, or list'),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $args = $input->getArgument('args');
        $action = $args[0] ?? 'list';
        $say = static function (string $line) use ($output): void {
            $output->writeln($line);
        };
        switch ($action) {
            case 'install':
            case 'uninstall':
                if (!isset($args[1])) {
                    $output->writeln("<error>ma $action needs a module name</error>");
                    return 2;
                }
                $admin = new \FreePBX\StandIn\ModuleAdmin(\FreePBX::create(), $args[1], $say);
                $admin->$action();
                $output->writeln($action === 'install' ? "Module {$args[1]} successfully installed" : "Module {$args[1]} successfully uninstalled");
                return 0;
            case 'list':
                foreach (\FreePBX::Modules()->getInfo() as $name => $info) {
                    $output->writeln(sprintf('%-20s %-12s %s', $name, $info['version'], $info['status'] === 2 ? 'Enabled' : 'Disabled'));
                }
                return 0;
        }
        $output->writeln("<error>the stand-in's ma knows install, uninstall and list, not $action</error>");
        return 2;
    }
}

class Reload extends Command
{
    protected function configure(): void
    {
        $this->setName('reload')
            ->setAliases(['r'])
            ->setDescription('Reload the configuration (stand-in: dialplan and agi-bin, then Asterisk over AMI)');
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        global $amp_conf;
        $say = static function (string $line) use ($output): void {
            $output->writeln($line);
        };
        \FreePBX\StandIn\ModuleAdmin::reload(\FreePBX::create(), $say);
        \FreePBX\StandIn\ModuleAdmin::amiCommand($amp_conf, 'dialplan reload');
        $output->writeln('Reload Complete');
        return 0;
    }
}

class Job extends Command
{
    protected function configure(): void
    {
        $this->setName('job')
            ->setDescription('Run the registered jobs (stand-in: --run [ID] runs enabled job classes now, --list lists them)')
            ->setDefinition([
                new \Symfony\Component\Console\Input\InputOption('run', null, \Symfony\Component\Console\Input\InputOption::VALUE_OPTIONAL, 'Run all enabled jobs, or the one with this id', false),
                new \Symfony\Component\Console\Input\InputOption('list', null, \Symfony\Component\Console\Input\InputOption::VALUE_NONE, 'List the jobs'),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $jobs = \FreePBX::Job()->getAll();
        if ($input->getOption('list')) {
            foreach ($jobs as $j) {
                $output->writeln(sprintf('%d %s %s %s %s %s', $j['id'], $j['modulename'], $j['jobname'], $j['schedule'], $j['class'] ?? $j['command'], $j['enabled'] ? 'enabled' : 'disabled'));
            }
            return 0;
        }
        $only = $input->getOption('run');
        $failed = 0;
        foreach ($jobs as $j) {
            if (!$j['enabled'] || ($only !== null && $only !== false && (string) $only !== (string) $j['id'])) {
                continue;
            }
            if ($j['class'] === null || $j['class'] === '') {
                $output->writeln("job {$j['modulename']}/{$j['jobname']}: the stand-in runs job classes only");
                continue;
            }
            $class = $j['class'];
            $ok = class_exists($class) && $class::run($input, $output);
            $output->writeln("job {$j['modulename']}/{$j['jobname']}: " . ($ok ? 'done' : 'failed'));
            $failed += $ok ? 0 : 1;
        }
        return $failed === 0 ? 0 : 1;
    }
}
