<?php

/**
 * Apicall\ExtensionInstaller's Debian branch (includes/extension.php): with phpenmod and
 * phpdismod present it enables and disables the extension through them, and restarts Apache
 * with systemctl. The system is debianPhp()'s with its folders moved to a scratch root and its
 * three programs replaced by stubs that record their arguments (the phpenmod stub also makes
 * the link the real one makes), so the exact commands are checked without touching the
 * machine's PHP or Apache. Needs the built extension (enable() checks that it loads).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace ApicallTest;

load_framework_classes();
require_once repo() . '/Apicall.class.php';
require_once repo() . '/includes/extension.php';

/** A stub program named $name in $bin: appends "NAME ARG..." to $log, then runs $then (sh). */
function stub(string $bin, string $name, string $log, string $then = ''): string
{
    $path = "$bin/$name";
    file_put_contents($path, "#!/bin/sh\necho \"$name \$*\" >> " . escapeshellarg($log) . "\n$then\nexit 0\n");
    chmod($path, 0755);
    return $path;
}

test('Debian PHP: enable runs phpenmod per SAPI and systemctl once; remove runs phpdismod per SAPI and systemctl', function (): void {
    $so = extension_so();
    if ($so === null) {
        fail('the extension is not built (target/debug/libapicall.so): run `make up`');
    }
    $real = \Apicall\ExtensionInstaller::debianPhp();
    // The commands the stubs stand for: if Debian's programs or their arguments change here,
    // what the stubs record below changes with them.
    eq(['/usr/bin/systemctl', 'try-restart', 'apache2'], $real['restart_web'], 'debianPhp() restarts Apache with');
    eq(['apache2', 'cli'], $real['sapis']);
    eq('8.2', $real['php_version']);
    ok(is_executable('/usr/sbin/phpenmod') && is_executable('/usr/sbin/phpdismod'), 'Debian\'s php-common is installed');
    eq('/usr/sbin/phpenmod', $real['enmod'], 'debianPhp() finds phpenmod');
    eq('/usr/sbin/phpdismod', $real['dismod'], 'debianPhp() finds phpdismod');

    $root = tmpdir('apicall-debian-php');
    foreach (['ext', 'etc/mods-available', 'etc/apache2/conf.d', 'etc/cli/conf.d', 'bin'] as $d) {
        mkdir("$root/$d", 0755, true);
    }
    $log = "$root/commands.log";
    // Like the real ones: phpenmod -s SAPI links conf.d/30-apicall.ini, phpdismod removes it.
    $link = '"' . "$root/etc/\$4/conf.d/30-apicall.ini" . '"';
    $system = array_merge($real, [
        'extension_dir' => "$root/ext",
        'php_etc' => "$root/etc",
        'enmod' => stub("$root/bin", 'phpenmod', $log, "ln -s ../../mods-available/apicall.ini $link"),
        'dismod' => stub("$root/bin", 'phpdismod', $log, "rm -f $link"),
        'restart_web' => array_merge([stub("$root/bin", 'systemctl', $log)], array_slice($real['restart_web'], 1)),
    ]);
    $commands = static fn (): array => file_exists($log) ? file($log, FILE_IGNORE_NEW_LINES) : [];

    $installer = new \Apicall\ExtensionInstaller($system, true, $so, null);
    [$ok, $lines] = $installer->enable();
    eq(true, $ok, implode("\n", $lines));
    eq([
        'phpenmod -v 8.2 -s apache2 apicall',
        'phpenmod -v 8.2 -s cli apicall',
        'systemctl try-restart apache2',
    ], $commands(), 'commands run by enable()');
    foreach (['apache2', 'cli'] as $sapi) {
        eq('../../mods-available/apicall.ini', readlink("$root/etc/$sapi/conf.d/30-apicall.ini"), "enabled for $sapi");
    }
    contains('Apache restarted to load the extension', implode("\n", $lines));

    // Already enabled: nothing to run.
    [$ok, $lines] = $installer->enable();
    eq(true, $ok, implode("\n", $lines));
    eq(3, count($commands()), 'a second enable() runs nothing: ' . export($commands()));

    unlink($log);
    eq([_('API Call: PHP extension disabled and removed; Apache restarted.')], $installer->remove());
    eq([
        'phpdismod -v 8.2 -s apache2 apicall',
        'phpdismod -v 8.2 -s cli apicall',
        'systemctl try-restart apache2',
    ], $commands(), 'commands run by remove()');
    ok(!file_exists("$root/ext/apicall.so") && !file_exists("$root/etc/mods-available/apicall.ini"), 'the .so and the ini are gone');

    // A failing phpenmod stops enable() with its output, and Apache is not restarted.
    unlink($log);
    $system['enmod'] = stub("$root/bin", 'phpenmod-broken', $log, 'echo "WARNING: Module apicall ini file does not exist" >&2; exit 1');
    [$ok, $lines] = (new \Apicall\ExtensionInstaller($system, true, $so, null))->enable();
    eq(false, $ok);
    contains('phpenmod -s apache2: WARNING: Module apicall ini file does not exist', implode("\n", $lines));
    eq(['phpenmod-broken -v 8.2 -s apache2 apicall'], $commands(), 'stopped at the first failure, no restart');
});
