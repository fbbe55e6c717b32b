<?php

/**
 * The admin command-line tool (crate rust/cli, shipped stripped as bin/apicall by the
 * release tarball) as the fwconsole commands apicall:tts, apicall:stt and
 * apicall:providers run it: the module's settings go to its stdin as JSON, so secrets
 * stay out of the process list. $APICALL_CLI names another build (development, tests).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace Apicall;

use FreePBX\modules\Apicall as Module;

require_once __DIR__ . '/process.php';

final class CommandLineTool
{
    /** @param string $moduleDir the module's folder, holding bin/apicall */
    public function __construct(private string $moduleDir)
    {
    }

    /** The tool: $APICALL_CLI when set, else bin/apicall; null when missing. */
    public function binary(): ?string
    {
        $bin = $this->path();
        return is_file($bin) && is_executable($bin) ? $bin : null;
    }

    /**
     * Runs the tool with $args after `--config -`, the settings $settings() returns as JSON
     * on its stdin. Returns [exit status, stdout (its JSON), stderr]; exit 127 and a
     * message when the tool is missing (then the settings are not read).
     *
     * @param string[] $args
     * @param callable(): array $settings
     */
    public function run(array $args, callable $settings, float $timeout = 120.0): array
    {
        $bin = $this->binary();
        if ($bin === null) {
            return [127, '', sprintf(
                _('API Call: the command-line tool %s is missing or not executable. It ships in the release tarball (make dist): reinstall the module from it.'),
                $this->path()
            )];
        }
        $json = (string) json_encode($settings(), JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        return Process::run(array_merge([$bin, '--config', '-'], $args), null, $json, $timeout);
    }

    private function path(): string
    {
        $env = getenv('APICALL_CLI');
        return is_string($env) && $env !== '' ? $env : $this->moduleDir . '/' . Module::CLI_BINARY;
    }
}
