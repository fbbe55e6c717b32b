<?php

/**
 * Right navigation of the API Call page (Apicall::getRightNav()): links to its sections.
 * Variables: $sections (anchor => title).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}
?>
<div class="list-group apicall-rnav">
<?php foreach ($sections as $anchor => $title) : ?>
    <a href="#<?php echo htmlspecialchars($anchor, ENT_QUOTES, 'UTF-8'); ?>" class="list-group-item"><?php echo htmlspecialchars($title, ENT_QUOTES, 'UTF-8'); ?></a>
<?php endforeach; ?>
</div>
