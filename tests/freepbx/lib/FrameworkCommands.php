<?php

/**
 * The framework's own fwconsole commands the stand-in offers, on top of the module
 * commands: `ma` (moduleadmin: install, uninstall, list) and `reload`, doing what
 * tools/install-module.php, uninstall-module.php and reload.php do; `job`; `start` and
 * `stop`, running the hooks the active modules declare in module.xml <hooks> for
 * FreePBX\Console\Command\Start / Stop (pre/postAsteriskHooks) as FreePBX 17 does.
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

/**
 * The hooks the active modules declare in module.xml for a framework class, the way
 * FreePBX 17's Hooks reads them: <hooks><framework class="Start"
 * namespace="FreePBX\Console\Command" [priority="N"]><method callingMethod="postAsteriskHooks"
 * class="Apicall" namespace="FreePBX\modules">startFreepbx</method></framework></hooks>,
 * only for a module that has module.xml and <Module>.class.php; sorted by priority
 * (default 500; a taken priority moves to the next free one). Each hook: module (the
 * declaring module's rawname, ucfirst), class, namespace, method.
 */
final class StandInHooks
{
    public static function forMethod(string $class, string $callingMethod): array
    {
        $webroot = rtrim((string) \FreePBX::Config()->get('AMPWEBROOT'), '/');
        $sorted = [];
        foreach (array_keys(\FreePBX::Modules()->getActiveModules()) as $module) {
            $dir = "$webroot/admin/modules/$module";
            if (!is_file("$dir/module.xml") || !is_file("$dir/" . ucfirst($module) . '.class.php')) {
                continue;
            }
            $xml = simplexml_load_file("$dir/module.xml");
            if ($xml === false || !isset($xml->hooks)) {
                continue;
            }
            foreach ($xml->hooks->children() as $tag => $framework) {
                $ns = (string) ($framework['namespace'] ?? '');
                $hookedClass = $ns !== '' ? $ns . '\\' . (string) ($framework['class'] ?? $tag) : (string) ($framework['class'] ?? $tag);
                if ($hookedClass !== $class) {
                    continue;
                }
                $priority = isset($framework['priority']) ? (int) $framework['priority'] : 500;
                foreach ($framework->method as $method) {
                    if ((string) ($method['callingMethod'] ?? '') !== $callingMethod) {
                        continue;
                    }
                    while (isset($sorted[$priority])) {
                        $priority++;
                    }
                    $sorted[$priority] = [
                        'module' => ucfirst(strtolower($module)),
                        'class' => (string) ($method['class'] ?? ''),
                        'namespace' => (string) ($method['namespace'] ?? ''),
                        'method' => (string) $method,
                    ];
                }
            }
        }
        ksort($sorted);
        return $sorted;
    }

    /**
     * Runs the hooks of $command's pre/post step as FreePBX's Start and Stop do:
     * `$bmo->{module}->{method}($output)`, restricted to the modules named in $only.
     */
    public static function run(string $class, string $callingMethod, array $only, OutputInterface $output, bool $announce): void
    {
        $bmo = \FreePBX::create();
        $only = array_map('strtolower', $only);
        foreach (self::forMethod($class, $callingMethod) as $hook) {
            if ($only !== [] && !in_array(strtolower($hook['module']), $only, true)) {
                continue;
            }
            if ($announce) {
                $output->writeln(sprintf('Running Asterisk pre from %s module', $hook['module']));
            }
            $module = $hook['module'];
            $method = $hook['method'];
            try {
                $bmo->$module->$method($output);
            } catch (\Exception $e) {
                $output->writeln('<error>' . $e->getMessage() . '</error>');
            }
        }
    }
}

/**
 * fwconsole start (stand-in): as root, runs the modules' pre-start hooks
 * (callingMethod preAsteriskHooks) and post-start hooks (postAsteriskHooks) of
 * FreePBX\Console\Command\Start; --pre / --post run only those, module names restrict
 * them. Asterisk is the stack's own: the stand-in neither starts nor stops it.
 */
class Start extends Command
{
    protected function configure(): void
    {
        $this->setName('start')
            ->setDescription('Start Asterisk and run other needed FreePBX commands (stand-in: runs the module hooks)')
            ->setDefinition([
                new InputArgument('args', InputArgument::IS_ARRAY, 'Module names'),
                new \Symfony\Component\Console\Input\InputOption('pre', null, \Symfony\Component\Console\Input\InputOption::VALUE_NONE, 'Only run pre-start hooks'),
                new \Symfony\Component\Console\Input\InputOption('post', null, \Symfony\Component\Console\Input\InputOption::VALUE_NONE, 'Only run post-start hooks'),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        if (posix_geteuid() !== 0) {
            $output->writeln('<error>You need to be root to run this command</error>');
            return 1;
        }
        $pre = !$input->getOption('post');
        $post = !$input->getOption('pre');
        $only = $input->getArgument('args');
        $output->writeln('Running FreePBX startup...');
        if ($pre) {
            StandInHooks::run(self::class, 'preAsteriskHooks', $only, $output, false);
        }
        if ($post) {
            StandInHooks::run(self::class, 'postAsteriskHooks', $only, $output, false);
        }
        return 0;
    }
}

/**
 * fwconsole stop (stand-in): as root, runs the modules' pre-stop hooks (each announced,
 * errors shown and skipped, as FreePBX does) and post-stop hooks of
 * FreePBX\Console\Command\Stop; --pre / --post and module names as for start.
 */
class Stop extends Command
{
    protected function configure(): void
    {
        $this->setName('stop')
            ->setDescription('Stop Asterisk and run other needed FreePBX commands (stand-in: runs the module hooks)')
            ->setDefinition([
                new InputArgument('args', InputArgument::IS_ARRAY, 'Module names'),
                new \Symfony\Component\Console\Input\InputOption('pre', null, \Symfony\Component\Console\Input\InputOption::VALUE_NONE, 'Only run pre-stop hooks'),
                new \Symfony\Component\Console\Input\InputOption('post', null, \Symfony\Component\Console\Input\InputOption::VALUE_NONE, 'Only run post-stop hooks'),
            ]);
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        if (posix_geteuid() !== 0) {
            $output->writeln('<error>You need to be root to run this command</error>');
            return 1;
        }
        $pre = !$input->getOption('post');
        $post = !$input->getOption('pre');
        $only = $input->getArgument('args');
        $output->writeln('Running FreePBX shutdown...');
        $output->writeln('');
        if ($pre) {
            StandInHooks::run(self::class, 'preAsteriskHooks', $only, $output, true);
        }
        $output->writeln('');
        if ($post) {
            StandInHooks::run(self::class, 'postAsteriskHooks', $only, $output, false);
        }
        return 0;
    }
}
