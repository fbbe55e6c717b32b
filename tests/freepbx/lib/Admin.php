<?php

/**
 * Stand-in for FreePBX 17's admin web interface, only as far as a module page needs it:
 * admin/config.php (login against the ampusers table, menu from the active modules'
 * menuitems, the module's doConfigPageInit() before its page.<display>.php, the page in
 * FreePBX's chrome with the module's assets/css/*.css and assets/js/*.js included
 * automatically, the action bar from getActionBar() and the floating right nav from
 * getRightNav()) and admin/ajax.php (ajaxRequest() decides, ajaxHandler() answers JSON,
 * only for a logged-in admin unless the module says otherwise).
 *
 * Markup and behaviour kept from FreePBX: Bootstrap 3 and Font Awesome 4 (Debian's
 * libjs-bootstrap, libjs-jquery and fonts-font-awesome when installed), #action-bar >
 * #action-buttons with <input type="submit" class="btn"> buttons that submit the page's
 * form.fpbx-submit (adding their name=value) or reset it, #floating-nav-bar with
 * #fixed-list-button, the module's textdomain bound to its i18n folder.
 * Sessions: PHP's, the user in $_SESSION['AMP_user']; passwords as FreePBX stores them
 * (sha1 in ampusers.password_sha1).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

namespace FreePBX\StandIn;

final class Admin
{
    /** Debian packages' files the chrome uses when present: URL path under assets/vendor => folder. */
    public const VENDOR = [
        'bootstrap' => '/usr/share/javascript/bootstrap',
        'jquery' => '/usr/share/javascript/jquery',
        'font-awesome' => '/usr/share/fonts-font-awesome',
    ];

    /**
     * Puts the stand-in's admin files into $webroot/admin (links), as installing
     * FreePBX's framework module would. Idempotent.
     */
    public static function installWeb(string $webroot): void
    {
        $admin = rtrim($webroot, '/') . '/admin';
        $src = dirname(__DIR__) . '/admin';
        foreach (['config.php', 'ajax.php'] as $f) {
            self::link("$src/$f", "$admin/$f");
        }
        self::link("$src/assets", "$admin/assets/standin");
        foreach (self::VENDOR as $name => $dir) {
            if (is_dir($dir)) {
                self::link($dir, "$admin/assets/vendor/$name");
            }
        }
    }

    private static function link(string $target, string $link): void
    {
        if (is_link($link) && readlink($link) === $target) {
            return;
        }
        if (!is_dir(dirname($link))) {
            mkdir(dirname($link), 0755, true);
        }
        if (is_link($link) || is_file($link)) {
            unlink($link);
        }
        symlink($target, $link);
    }

    /** Creates (or updates) an administrator of the ampusers table. */
    public static function addAdmin(\PDO $db, string $user, string $password): void
    {
        self::ensureUsers($db);
        $db->prepare('REPLACE INTO `ampusers` (`username`, `password_sha1`, `extension_low`, `extension_high`, `deptname`, `sections`)'
            . " VALUES (?, ?, '', '', '', '*')")->execute([$user, sha1($password)]);
    }

    private static function ensureUsers(\PDO $db): void
    {
        $db->query('CREATE TABLE IF NOT EXISTS `ampusers` (`username` VARCHAR(255) NOT NULL, `password_sha1` VARCHAR(40) NOT NULL, '
            . "`extension_low` VARCHAR(20) NOT NULL DEFAULT '', `extension_high` VARCHAR(20) NOT NULL DEFAULT '', "
            . "`deptname` VARCHAR(20) NOT NULL DEFAULT '', `sections` BLOB NOT NULL, PRIMARY KEY (`username`))");
    }

    private static function startSession(): void
    {
        if (session_status() !== PHP_SESSION_ACTIVE) {
            session_set_cookie_params(['path' => dirname((string) ($_SERVER['SCRIPT_NAME'] ?? '/admin/config.php')) . '/', 'httponly' => true, 'samesite' => 'Lax']);
            session_start();
        }
    }

    private static function loggedIn(): bool
    {
        return is_string($_SESSION['AMP_user'] ?? null) && $_SESSION['AMP_user'] !== '';
    }

    /** admin/config.php */
    public static function config(): void
    {
        self::startSession();
        $bmo = \FreePBX::create();
        if (isset($_GET['logout'])) {
            $_SESSION = [];
            session_destroy();
            header('Location: config.php', true, 303);
            return;
        }
        $loginError = '';
        if (!self::loggedIn() && strtoupper((string) ($_SERVER['REQUEST_METHOD'] ?? '')) === 'POST' && isset($_POST['username'], $_POST['password'])) {
            self::ensureUsers($bmo->Database);
            $sth = $bmo->Database->prepare('SELECT `password_sha1` FROM `ampusers` WHERE `username` = ?');
            $sth->execute([(string) $_POST['username']]);
            $hash = $sth->fetchColumn();
            if (is_string($hash) && hash_equals($hash, sha1((string) $_POST['password']))) {
                session_regenerate_id(true);
                $_SESSION['AMP_user'] = (string) $_POST['username'];
                header('Location: config.php' . (isset($_GET['display']) ? '?display=' . rawurlencode((string) $_GET['display']) : ''), true, 303);
                return;
            }
            $loginError = 'Invalid username or password';
        }
        if (!self::loggedIn()) {
            self::renderLogin($loginError);
            return;
        }

        $display = is_string($_REQUEST['display'] ?? null) ? $_REQUEST['display'] : '';
        $menu = self::menu($bmo);
        $module = null;
        foreach ($menu as $items) {
            foreach ($items as $item) {
                if ($item['display'] === $display) {
                    $module = $item['module'];
                }
            }
        }
        $content = '';
        $actionBar = [];
        $rnav = '';
        if ($module === null) {
            $content = $display === '' ? '<div class="container-fluid"><h1>Dashboard</h1><p>FreePBX stand-in.</p></div>'
                : '<div class="container-fluid"><h2>Not found</h2><p>The section you requested does not exist or you do not have access to it.</p></div>';
        } else {
            self::textdomain($bmo, $module);
            $class = $bmo->Modules->cleanModuleName($module);
            if ($bmo->Modules->moduleHasMethod($module, 'doConfigPageInit')) {
                $bmo->$class->doConfigPageInit($display);
            }
            $page = rtrim((string) $bmo->Config->get('AMPWEBROOT'), '/') . "/admin/modules/$module/page.$display.php";
            ob_start();
            (static function (string $__page): void {
                global $amp_conf;
                include $__page;
            })($page);
            $content = (string) ob_get_clean();
            if ($bmo->Modules->moduleHasMethod($module, 'getActionBar')) {
                $actionBar = (array) $bmo->$class->getActionBar($_REQUEST);
            }
            if ($bmo->Modules->moduleHasMethod($module, 'getRightNav')) {
                $rnav = (string) $bmo->$class->getRightNav($_REQUEST);
            }
        }
        self::renderPage($bmo, $menu, $module, $display, $content, $actionBar, $rnav);
    }

    /** admin/ajax.php?module=M&command=C */
    public static function ajax(): void
    {
        self::startSession();
        $bmo = \FreePBX::create();
        $module = is_string($_REQUEST['module'] ?? null) ? $_REQUEST['module'] : '';
        $command = is_string($_REQUEST['command'] ?? null) ? $_REQUEST['command'] : '';
        header('Content-Type: application/json; charset=utf-8');
        header('Cache-Control: no-store');
        $fail = static function (int $status, string $message): void {
            http_response_code($status);
            echo json_encode(['error' => $message]);
        };
        if (!preg_match('/^[a-z0-9_]+$/', $module) || !isset($bmo->Modules->getActiveModules()[$module])) {
            $fail(400, 'Unknown module');
            return;
        }
        $class = $bmo->Modules->cleanModuleName($module);
        if (!$bmo->Modules->moduleHasMethod($module, 'ajaxRequest') || !$bmo->Modules->moduleHasMethod($module, 'ajaxHandler')) {
            $fail(400, 'The module has no ajax handler');
            return;
        }
        $setting = ['authenticate' => true, 'allowremote' => false];
        if (!$bmo->$class->ajaxRequest($command, $setting)) {
            $fail(403, 'ajaxRequest declined');
            return;
        }
        if (!empty($setting['authenticate']) && !self::loggedIn()) {
            $fail(403, 'Not Authenticated');
            return;
        }
        self::textdomain($bmo, $module);
        echo json_encode($bmo->$class->ajaxHandler(), JSON_UNESCAPED_SLASHES);
    }

    /** category => [['display', 'module', 'label']] of the active modules' menuitems. */
    private static function menu(\FreePBX $bmo): array
    {
        $webroot = rtrim((string) $bmo->Config->get('AMPWEBROOT'), '/');
        $menu = [];
        foreach (array_keys($bmo->Modules->getActiveModules()) as $module) {
            $xml = @simplexml_load_file("$webroot/admin/modules/$module/module.xml");
            if ($xml === false || !isset($xml->menuitems)) {
                continue;
            }
            foreach ($xml->menuitems->children() as $item) {
                $category = isset($item['category']) ? (string) $item['category'] : (string) $xml->category;
                $menu[$category !== '' ? $category : 'Other'][] = [
                    'display' => $item->getName(),
                    'module' => $module,
                    'label' => (string) $item,
                ];
            }
        }
        ksort($menu);
        return $menu;
    }

    private static function textdomain(\FreePBX $bmo, string $module): void
    {
        $dir = rtrim((string) $bmo->Config->get('AMPWEBROOT'), '/') . "/admin/modules/$module/i18n";
        if (function_exists('bindtextdomain') && is_dir($dir)) {
            bindtextdomain($module, $dir);
            bind_textdomain_codeset($module, 'utf8');
            textdomain($module);
        }
    }

    private static function h($s): string
    {
        return htmlspecialchars((string) $s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
    }

    private static function head(string $title, array $css): string
    {
        $html = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            . '<meta name="viewport" content="width=device-width, initial-scale=1">' . "\n"
            . '<title>' . self::h($title) . "</title>\n"
            . '<link rel="icon" href="data:,">' . "\n";
        if (is_dir(self::VENDOR['bootstrap'])) {
            $html .= '<link rel="stylesheet" href="assets/vendor/bootstrap/css/bootstrap.min.css">' . "\n";
        }
        if (is_dir(self::VENDOR['font-awesome'])) {
            $html .= '<link rel="stylesheet" href="assets/vendor/font-awesome/css/font-awesome.min.css">' . "\n";
        }
        $html .= '<link rel="stylesheet" href="assets/standin/standin.css">' . "\n";
        foreach ($css as $href) {
            $html .= '<link rel="stylesheet" href="' . self::h($href) . '">' . "\n";
        }
        return $html . "</head>\n";
    }

    private static function renderLogin(string $error): void
    {
        echo self::head('FreePBX Administration', []);
        echo '<body class="fpbx-login"><div class="container"><div class="row"><div class="col-sm-6 col-sm-offset-3">'
            . '<div class="panel panel-default" id="login_form"><div class="panel-heading"><h3 class="panel-title">FreePBX Administration</h3></div>'
            . '<div class="panel-body">';
        if ($error !== '') {
            echo '<div class="alert alert-danger" id="login_error">' . self::h($error) . '</div>';
        }
        $action = 'config.php' . (isset($_GET['display']) ? '?display=' . rawurlencode((string) $_GET['display']) : '');
        echo '<form method="post" action="' . self::h($action) . '" id="loginform">'
            . '<div class="form-group"><label for="username">Username</label><input type="text" class="form-control" id="username" name="username" autocomplete="username" required></div>'
            . '<div class="form-group"><label for="password">Password</label><input type="password" class="form-control" id="password" name="password" autocomplete="current-password" required></div>'
            . '<button type="submit" class="btn btn-primary" id="login_button">Continue</button>'
            . "</form></div></div></div></div></div>\n</body>\n</html>\n";
    }

    private static function renderPage(\FreePBX $bmo, array $menu, ?string $module, string $display, string $content, array $actionBar, string $rnav): void
    {
        $webroot = rtrim((string) $bmo->Config->get('AMPWEBROOT'), '/');
        $version = '17.0';
        $css = [];
        $js = [];
        if ($module !== null) {
            $info = $bmo->Modules->getInfo($module)[$module] ?? [];
            $version = (string) ($info['version'] ?? $version);
            // Like FreePBX: every css/js file of the module's assets, in name order.
            foreach (['css' => &$css, 'js' => &$js] as $kind => &$list) {
                $files = glob("$webroot/admin/assets/$module/$kind/*.$kind") ?: [];
                sort($files);
                foreach ($files as $f) {
                    $list[] = "assets/$module/$kind/" . basename($f) . '?load_version=' . rawurlencode($version);
                }
            }
            unset($list);
        }
        echo self::head('FreePBX Administration', $css);
        echo '<body>' . "\n" . '<nav class="navbar navbar-inverse navbar-fixed-top" id="fpbx-menu-collapse"><div class="container-fluid">'
            . '<div class="navbar-header"><a class="navbar-brand" href="config.php">FreePBX</a></div><ul class="nav navbar-nav">';
        foreach ($menu as $category => $items) {
            echo '<li class="dropdown"><a href="#" class="dropdown-toggle" data-toggle="dropdown">' . self::h($category) . ' <span class="caret"></span></a><ul class="dropdown-menu">';
            foreach ($items as $item) {
                echo '<li' . ($item['display'] === $display ? ' class="active"' : '') . '><a href="config.php?display=' . rawurlencode($item['display']) . '">'
                    . self::h($item['label']) . '</a></li>';
            }
            echo '</ul></li>';
        }
        echo '</ul><ul class="nav navbar-nav navbar-right"><li><a href="config.php?logout=1" id="logout">Logout</a></li></ul></div></nav>' . "\n";
        echo '<div id="page"><div id="page_body">' . "\n" . $content . "\n</div></div>\n";
        if ($rnav !== '') {
            echo '<div id="floating-nav-bar" class="col-xs-6"><button id="fixed-list-button" type="button" class="btn btn-primary"><i class="fa fa-list"></i></button>'
                . '<div class="floating-nav-bar-contents">' . $rnav . "</div></div>\n";
        }
        if ($actionBar !== []) {
            echo '<div id="action-bar"><div id="action-buttons"><button id="action-bar-hide" class="btn" type="button"><i class="fa fa-angle-double-right"></i></button>';
            foreach ($actionBar as $b) {
                $classes = array_merge(['btn'], (array) ($b['class'] ?? []));
                echo '<input type="' . self::h($b['type'] ?? 'submit') . '" name="' . self::h($b['name'] ?? '') . '" id="' . self::h($b['id'] ?? '')
                    . '" value="' . self::h($b['value'] ?? '') . '" class="' . self::h(implode(' ', $classes)) . '">';
            }
            echo "</div></div>\n";
        }
        echo '<div id="footer"><div id="footer_content" class="row">FreePBX stand-in ' . self::h($version) . "</div></div>\n";
        if (is_file(self::VENDOR['jquery'] . '/jquery.min.js')) {
            echo '<script src="assets/vendor/jquery/jquery.min.js"></script>' . "\n";
            if (is_file(self::VENDOR['bootstrap'] . '/js/bootstrap.min.js')) {
                echo '<script src="assets/vendor/bootstrap/js/bootstrap.min.js"></script>' . "\n";
            }
        }
        echo '<script src="assets/standin/standin.js"></script>' . "\n";
        foreach ($js as $src) {
            echo '<script src="' . self::h($src) . '"></script>' . "\n";
        }
        echo "</body>\n</html>\n";
    }
}
