<?php

/**
 * Admin page of the API Call module (config.php?display=apicall).
 *
 * Variables: $token, $endpoint, $aibotEndpoint, $cdrEndpoint, $settings (every
 * setting of Apicall::SETTING_DEFAULTS with its current value), $version,
 * $extensionVersion.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}

$h = static function ($s): string {
    return htmlspecialchars((string) $s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
};
$curl = "curl '" . $endpoint . "' \\\n"
    . "  -H 'token: " . ($token !== '' ? $token : 'TOKEN') . "' \\\n"
    . "  -H 'Content-Type: application/json;charset=utf-8' \\\n"
    . "  --data '{\"tocall\": \"200\"}'";
?>
<div class="container-fluid apicall-page">
    <h1><?php echo $h(_('API Call')); ?></h1>
    <div class="display full-border">
        <div class="row">
            <div class="col-sm-12">
                <div class="fpbx-container">
                    <div class="display no-border">
                        <div class="element-container">
                            <div class="row">
                                <div class="col-md-3">
                                    <label class="control-label" for="apicall-token"><?php echo $h(_('Token')); ?></label>
                                </div>
                                <div class="col-md-9">
                                    <?php if ($token === '') : ?>
                                        <div class="alert alert-warning"><?php echo $h(_('No token yet: reinstall the module to create one.')); ?></div>
                                    <?php else : ?>
                                        <div class="input-group">
                                            <input type="text" class="form-control" id="apicall-token" readonly value="<?php echo $h($token); ?>">
                                            <span class="input-group-btn">
                                                <button type="button" class="btn btn-default apicall-copy" data-target="apicall-token"><?php echo $h(_('Copy')); ?></button>
                                            </span>
                                        </div>
                                    <?php endif; ?>
                                    <span class="help-block"><?php echo $h(_('Send it in the "token" header of every request.')); ?></span>
                                </div>
                            </div>
                        </div>
                        <div class="element-container">
                            <div class="row">
                                <div class="col-md-3">
                                    <label class="control-label"><?php echo $h(_('Endpoints')); ?></label>
                                </div>
                                <div class="col-md-9">
                                    <p><code><?php echo $h($endpoint); ?></code> &mdash; <?php echo $h(_('place a call')); ?></p>
                                    <p><code><?php echo $h($aibotEndpoint); ?></code> &mdash; <?php echo $h(_('conversation with webhooks')); ?></p>
                                    <p><code><?php echo $h($cdrEndpoint); ?>?uniqueid=&hellip;</code> &mdash; <?php echo $h(_('CDR rows of a call')); ?></p>
                                </div>
                            </div>
                        </div>
                        <div class="element-container">
                            <div class="row">
                                <div class="col-md-3">
                                    <label class="control-label"><?php echo $h(_('Example')); ?></label>
                                </div>
                                <div class="col-md-9">
                                    <pre id="apicall-curl"><?php echo $h($curl); ?></pre>
                                </div>
                            </div>
                        </div>
                        <div class="element-container">
                            <div class="row">
                                <div class="col-md-3">
                                    <label class="control-label"><?php echo $h(_('Settings')); ?></label>
                                </div>
                                <div class="col-md-9">
                                    <table class="table table-condensed">
                                        <tr><th><?php echo $h(_('Dial context')); ?></th><td><code><?php echo $h($settings['dial_context']); ?></code></td></tr>
                                        <tr><th><?php echo $h(_('Default language')); ?></th><td><code><?php echo $h($settings['default_language']); ?></code></td></tr>
                                        <tr><th><?php echo $h(_('Default caller ID')); ?></th><td><code><?php echo $h($settings['default_callerid']); ?></code></td></tr>
                                        <tr><th><?php echo $h(_('Public URL')); ?></th><td><?php if ($settings['public_url'] !== '') : ?><code><?php echo $h($settings['public_url']); ?></code><?php else : ?><?php echo $h(_('from each request')); ?><?php endif; ?></td></tr>
                                        <tr><th><?php echo $h(_('Answer audio links valid for')); ?></th><td><code><?php echo $h($settings['answer_url_lifetime']); ?></code> <?php echo $h(_('seconds')); ?></td></tr>
                                        <tr><th><?php echo $h(_('Answer audio kept for')); ?></th><td><code><?php echo $h($settings['answer_retention_days']); ?></code> <?php echo $h(_('days')); ?></td></tr>
                                        <tr><th><?php echo $h(_('Webhook timeout')); ?></th><td><code><?php echo $h($settings['webhook_timeout']); ?></code> <?php echo $h(_('seconds')); ?> (<?php echo $h(_('connect')); ?> <code><?php echo $h($settings['webhook_connect_timeout']); ?></code>)</td></tr>
                                        <tr><th><?php echo $h(_('Speech to text')); ?></th><td><code><?php echo $h($settings['stt_provider']); ?></code> <code><?php echo $h($settings['stt_url']); ?></code> <code><?php echo $h($settings['stt_model']); ?></code></td></tr>
                                    </table>
                                </div>
                            </div>
                        </div>
                        <p class="text-muted">
                            <?php echo $h(sprintf(_('Module %s'), $version)); ?>
                            &middot;
                            <?php if ($extensionVersion !== '') : ?>
                                <?php echo $h(sprintf(_('PHP extension %s'), $extensionVersion)); ?>
                            <?php else : ?>
                                <span class="text-danger"><?php echo $h(_('PHP extension not loaded: calls cannot be placed.')); ?></span>
                            <?php endif; ?>
                        </p>
                    </div>
                </div>
            </div>
        </div>
    </div>
</div>
