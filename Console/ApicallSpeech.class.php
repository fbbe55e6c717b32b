<?php

/**
 * fwconsole apicall:speech install|start|stop|restart|status
 *
 * The local speech service of API Call (bin/apicall-speechd: speech-to-text and
 * text-to-speech on 127.0.0.1, run as the asterisk user), through the module's control
 * script bin/apicall-speech:
 *   install   (as root) Debian's espeak-ng and pico2wave, a Python venv with the engines
 *             and models from PyPI in $ASTVARLIBDIR/apicall/speech, then starts it
 *   start, stop, restart, status
 * `fwconsole start`/`stop` start and stop it with FreePBX; the module's job restarts it
 * every minute when it stopped answering (not after `apicall:speech stop`).
 * Exit status: the script's (status: 0 running, 1 not answering, 3 stopped, 4 not installed).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\Console\Command;

use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

class ApicallSpeech extends Command
{
    private const ACTIONS = ['install', 'start', 'stop', 'restart', 'status'];

    protected function configure(): void
    {
        $this->setName('apicall:speech')
            ->setDescription(_('Install, start, stop or check the local speech service of API Call'))
            ->setDefinition([
                new InputArgument('action', InputArgument::REQUIRED, implode('|', self::ACTIONS)),
            ])
            ->setHelp(_('install needs root: it adds Debian packages (espeak-ng, pico2wave from non-free) and a Python venv with the speech engines and models (PyPI) in $ASTVARLIBDIR/apicall/speech, then starts the service. It runs on 127.0.0.1 as the asterisk user, starts with fwconsole start and is restarted by the module\'s job when it stops answering.'));
    }

    protected function execute(InputInterface $input, OutputInterface $output): int
    {
        $action = (string) $input->getArgument('action');
        if (!in_array($action, self::ACTIONS, true)) {
            $output->writeln('<error>' . sprintf(_('Unknown action %s: use %s'), $action, implode(', ', self::ACTIONS)) . '</error>');
            return 2;
        }
        $apicall = \FreePBX::Apicall();
        if ($action === 'install' && !(function_exists('posix_geteuid') && posix_geteuid() === 0)) {
            $output->writeln('<error>' . sprintf(_('Installing the local speech service needs root (Debian packages). As root, run: %s install'), \FreePBX\modules\Apicall::SPEECH_COMMAND) . '</error>');
            return 1;
        }
        $echo = static function (string $line) use ($output): void {
            $output->writeln($line, OutputInterface::OUTPUT_RAW);
        };
        [$code] = $apicall->runSpeech($action, $echo);
        if ($action === 'install' && $code === 0) {
            [$code] = $apicall->runSpeech('start', $echo);
        }
        return $code;
    }
}
