<?php

/**
 * Admin page of the API Call module (config.php?display=apicall), in FreePBX 17's
 * Bootstrap 3 markup. The framework adds the action bar (Submit/Reset of the settings
 * form, class fpbx-submit), the right navigation and the module's assets/js, assets/css.
 *
 * Variables (Apicall::showPage()): $token, $endpoint, $aibotEndpoint, $cdrEndpoint,
 * $settings (setting => value; secrets masked), $groups (Apicall\Settings::groups()),
 * $secrets, $defaults, $messages, $errors (setting => message), $extension
 * (Apicall::extensionState()), $calls, $callsError, $version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

if (!defined('FREEPBX_IS_AUTH')) {
    die('No direct script access allowed');
}

$h = static function ($s): string {
    return htmlspecialchars((string) $s, ENT_QUOTES | ENT_SUBSTITUTE, 'UTF-8');
};
$shownToken = $token !== '' ? $token : 'TOKEN';
$curlIndex = "curl -s '" . $endpoint . "' \\\n"
    . "  -H 'token: " . $shownToken . "' \\\n"
    . "  -H 'Content-Type: application/json' \\\n"
    . "  --data '{\"tocall\": \"200\", \"message\": \"Hello from API Call\", \"language\": \"en\"}'";
$curlAibot = "curl -s '" . $aibotEndpoint . "' \\\n"
    . "  -H 'token: " . $shownToken . "' \\\n"
    . "  -H 'Content-Type: application/json' \\\n"
    . "  --data '{\"PhoneNumber\": \"200\", \"Language\": \"en_US\",\n"
    . "          \"MessageText\": \"Enter your code, then hash.\",\n"
    . "          \"UserInputMethod\": \"digits\", \"EndDigit\": \"#\",\n"
    . "          \"NextMessageWebhookUrl\": \"https://app.example.com/step\",\n"
    . "          \"CallStatusWebhookUrl\": \"https://app.example.com/status\"}'";
$storedSecret = static function (string $key) use ($settings): bool {
    return ($settings[$key] ?? '') !== '';
};
?>
<div class="container-fluid apicall-page">
    <h1><?php echo $h(_('API Call')); ?></h1>
<?php foreach ($messages as $message) : ?>
    <div class="alert alert-success apicall-message" role="status"><?php echo $h($message); ?></div>
<?php endforeach; ?>
<?php if ($errors !== []) : ?>
    <div class="alert alert-danger apicall-errors" role="alert">
        <?php echo $h(_('The settings were not saved. Correct the fields marked below.')); ?>
    </div>
<?php endif; ?>
<?php if (!$extension['ok']) : ?>
    <div class="alert alert-danger apicall-extension-alert" role="alert">
        <strong><?php echo $h(_('The apicall PHP extension is not working: calls cannot be placed.')); ?></strong>
        <?php echo $h($extension['reason']); ?>.
        <?php if ($extension['fix'] !== '') : ?>
            <br><?php echo $h(_('Fix:')); ?> <code><?php echo $h($extension['fix']); ?></code>
        <?php endif; ?>
        <br><?php echo $h(_('Check with:')); ?> <code>fwconsole apicall:status</code>
    </div>
<?php endif; ?>
    <div class="display full-border">
        <div class="row">
            <div class="col-sm-12">
                <div class="fpbx-container">
                    <div class="display no-border">

                        <div class="section-title" data-for="apicall-api">
                            <h3 id="apicall-api"><i class="fa fa-minus"></i> <?php echo $h(_('Token and API')); ?></h3>
                        </div>
                        <div class="section" data-id="apicall-api">
                            <div class="element-container">
                                <div class="row">
                                    <div class="form-group">
                                        <div class="col-md-3">
                                            <label class="control-label" for="apicall-token"><?php echo $h(_('Token')); ?></label>
                                        </div>
                                        <div class="col-md-9">
<?php if ($token === '') : ?>
                                            <div class="alert alert-warning"><?php echo $h(_('No token yet: reinstall the module to create one.')); ?></div>
<?php else : ?>
                                            <div class="input-group">
                                                <input type="text" class="form-control apicall-mono" id="apicall-token" readonly value="<?php echo $h($token); ?>">
                                                <span class="input-group-btn">
                                                    <button type="button" class="btn btn-default apicall-copy" data-copy="apicall-token"><i class="fa fa-clipboard"></i> <?php echo $h(_('Copy')); ?></button>
                                                    <button type="submit" class="btn btn-danger" id="apicall-regenerate-token" form="apicall-regenerate-token-form"><i class="fa fa-refresh"></i> <?php echo $h(_('Regenerate')); ?></button>
                                                </span>
                                            </div>
<?php endif; ?>
                                            <span class="help-block"><?php echo $h(_('Send it in the "token" header of every request. Regenerating it makes the old token stop working at once.')); ?></span>
                                        </div>
                                    </div>
                                </div>
                            </div>
                            <div class="element-container">
                                <div class="row">
                                    <div class="form-group">
                                        <div class="col-md-3">
                                            <label class="control-label"><?php echo $h(_('Endpoints')); ?></label>
                                        </div>
                                        <div class="col-md-9">
                                            <ul class="list-unstyled apicall-endpoints">
                                                <li><code id="apicall-url-index"><?php echo $h($endpoint); ?></code> &mdash; <?php echo $h(_('POST: place a call that plays a message')); ?></li>
                                                <li><code id="apicall-url-aibot"><?php echo $h($aibotEndpoint); ?></code> &mdash; <?php echo $h(_('POST: a conversation driven by your webhook')); ?></li>
                                                <li><code><?php echo $h($cdrEndpoint); ?>?linkedid=&hellip;</code> &mdash; <?php echo $h(_('GET: the CDR rows of a call')); ?></li>
                                            </ul>
                                        </div>
                                    </div>
                                </div>
                            </div>
                            <div class="element-container">
                                <div class="row">
                                    <div class="form-group">
                                        <div class="col-md-3">
                                            <label class="control-label" for="apicall-curl-index"><?php echo $h(_('Place a call')); ?></label>
                                        </div>
                                        <div class="col-md-9">
                                            <pre id="apicall-curl-index" class="apicall-curl"><?php echo $h($curlIndex); ?></pre>
                                            <button type="button" class="btn btn-default btn-sm apicall-copy" data-copy="apicall-curl-index"><i class="fa fa-clipboard"></i> <?php echo $h(_('Copy')); ?></button>
                                        </div>
                                    </div>
                                </div>
                            </div>
                            <div class="element-container">
                                <div class="row">
                                    <div class="form-group">
                                        <div class="col-md-3">
                                            <label class="control-label" for="apicall-curl-aibot"><?php echo $h(_('Start a conversation')); ?></label>
                                        </div>
                                        <div class="col-md-9">
                                            <pre id="apicall-curl-aibot" class="apicall-curl"><?php echo $h($curlAibot); ?></pre>
                                            <button type="button" class="btn btn-default btn-sm apicall-copy" data-copy="apicall-curl-aibot"><i class="fa fa-clipboard"></i> <?php echo $h(_('Copy')); ?></button>
                                        </div>
                                    </div>
                                </div>
                            </div>
                        </div>

                        <div class="section-title" data-for="apicall-extension">
                            <h3 id="apicall-extension"><i class="fa fa-minus"></i> <?php echo $h(_('PHP extension')); ?></h3>
                        </div>
                        <div class="section" data-id="apicall-extension">
                            <div class="element-container">
                                <div class="row">
                                    <div class="col-md-3"><label class="control-label"><?php echo $h(_('State')); ?></label></div>
                                    <div class="col-md-9" id="apicall-extension-state">
<?php if ($extension['ok']) : ?>
                                        <span class="label label-success"><?php echo $h(_('Loaded')); ?></span>
                                        <?php echo $h(sprintf(_('apicall %s for module %s'), $extension['version'], $extension['module_version'])); ?>
<?php else : ?>
                                        <span class="label label-danger"><?php echo $h($extension['loaded'] ? _('Wrong version') : _('Not loaded')); ?></span>
                                        <?php echo $h($extension['reason']); ?>
<?php endif; ?>
                                    </div>
                                </div>
                            </div>
                        </div>

                        <form class="fpbx-submit form-horizontal" id="apicall-settings" name="apicall-settings" method="post" action="config.php?display=apicall" autocomplete="off">
                            <input type="hidden" name="action" value="save">
<?php foreach ($groups as $groupId => [$title, $fields]) : ?>
                            <div class="section-title" data-for="apicall-settings-<?php echo $h($groupId); ?>">
                                <h3 id="apicall-settings-<?php echo $h($groupId); ?>"><i class="fa fa-minus"></i> <?php echo $h($title); ?></h3>
                            </div>
                            <div class="section" data-id="apicall-settings-<?php echo $h($groupId); ?>">
<?php foreach ($fields as $key => $field) :
    [$label, $help, $rule] = $field;
    $unit = $rule === 'int' ? ($field[3][2] ?? '') : '';
    $error = $errors[$key] ?? null;
    $isSecret = in_array($key, $secrets, true);
    ?>
                                <div class="element-container">
                                    <div class="row">
                                        <div class="form-group<?php echo $error !== null ? ' has-error' : ''; ?>">
                                            <div class="col-md-3">
                                                <label class="control-label" for="<?php echo $h($key); ?>"><?php echo $h($label); ?></label>
                                                <i class="fa fa-question-circle fpbx-help-icon" data-for="<?php echo $h($key); ?>"></i>
                                            </div>
                                            <div class="col-md-9">
<?php if ($isSecret) : ?>
                                                <div class="input-group">
                                                    <input type="password" class="form-control apicall-mono" id="<?php echo $h($key); ?>" name="<?php echo $h($key); ?>" value="" autocomplete="new-password"
                                                        placeholder="<?php echo $h($storedSecret($key) ? sprintf(_('stored: %s'), $settings[$key]) : _('not set')); ?>">
                                                    <span class="input-group-btn">
<?php if ($key === 'webhook_secret') : ?>
                                                        <button type="button" class="btn btn-default apicall-reveal" data-target="<?php echo $h($key); ?>" data-command="reveal_webhook_secret"><i class="fa fa-eye"></i> <?php echo $h(_('Show')); ?></button>
                                                        <button type="submit" class="btn btn-danger" id="apicall-regenerate-webhook-secret" form="apicall-regenerate-webhook-secret-form"><i class="fa fa-refresh"></i> <?php echo $h(_('Regenerate')); ?></button>
<?php else : ?>
                                                        <label class="btn btn-default"><input type="checkbox" name="clear_<?php echo $h($key); ?>" value="1"> <?php echo $h(_('Clear')); ?></label>
<?php endif; ?>
                                                    </span>
                                                </div>
<?php elseif ($unit !== '') : ?>
                                                <div class="input-group">
                                                    <input type="number" class="form-control" id="<?php echo $h($key); ?>" name="<?php echo $h($key); ?>" value="<?php echo $h($settings[$key]); ?>"
                                                        min="<?php echo (int) $field[3][0]; ?>" max="<?php echo (int) $field[3][1]; ?>" step="1" required>
                                                    <span class="input-group-addon"><?php echo $h($unit); ?></span>
                                                </div>
<?php else : ?>
                                                <input type="<?php echo $rule === 'int' ? 'number' : 'text'; ?>" class="form-control" id="<?php echo $h($key); ?>" name="<?php echo $h($key); ?>" value="<?php echo $h($settings[$key]); ?>"
                                                    placeholder="<?php echo $h($defaults[$key] ?? ''); ?>">
<?php endif; ?>
<?php if ($error !== null) : ?>
                                                <span class="help-block apicall-field-error" id="<?php echo $h($key); ?>-error"><?php echo $h($error); ?></span>
<?php endif; ?>
                                            </div>
                                        </div>
                                    </div>
                                    <div class="row">
                                        <div class="col-md-12">
                                            <span id="<?php echo $h($key); ?>-help" class="help-block fpbx-help-block"><?php echo $h($help); ?></span>
                                        </div>
                                    </div>
                                </div>
<?php endforeach; ?>
                            </div>
<?php endforeach; ?>
                        </form>
                        <form method="post" action="config.php?display=apicall" id="apicall-regenerate-token-form" class="apicall-confirm"
                            data-confirm="<?php echo $h(_('Create a new token? The current token stops working at once: every application using it gets 401 until it uses the new one.')); ?>">
                            <input type="hidden" name="action" value="regenerate_token">
                        </form>
                        <form method="post" action="config.php?display=apicall" id="apicall-regenerate-webhook-secret-form" class="apicall-confirm"
                            data-confirm="<?php echo $h(_('Create a new webhook signing secret? Receivers checking signatures need the new one.')); ?>">
                            <input type="hidden" name="action" value="regenerate_webhook_secret">
                        </form>

                        <div class="section-title" data-for="apicall-calls">
                            <h3 id="apicall-calls"><i class="fa fa-minus"></i> <?php echo $h(_('Recent calls')); ?></h3>
                        </div>
                        <div class="section" data-id="apicall-calls">
<?php if ($callsError !== '') : ?>
                            <div class="alert alert-warning"><?php echo $h(sprintf(_('The calls cannot be read: %s'), $callsError)); ?></div>
<?php elseif ($calls === []) : ?>
                            <p class="text-muted" id="apicall-no-calls"><?php echo $h(_('No calls yet.')); ?></p>
<?php else : ?>
                            <div class="table-responsive">
                                <table class="table table-striped table-condensed" id="apicall-calls-table">
                                    <thead>
                                        <tr>
                                            <th><?php echo $h(_('Time')); ?></th>
                                            <th><?php echo $h(_('Number')); ?></th>
                                            <th><?php echo $h(_('Kind')); ?></th>
                                            <th><?php echo $h(_('Outcome')); ?></th>
                                            <th><?php echo $h(_('Duration')); ?></th>
                                            <th><?php echo $h(_('Attempts')); ?></th>
                                            <th><?php echo $h(_('Last webhook')); ?></th>
                                        </tr>
                                    </thead>
                                    <tbody>
<?php foreach ($calls as $call) : ?>
                                        <tr data-call="<?php echo $h($call['id']); ?>">
                                            <td><?php echo $h($call['created']); ?></td>
                                            <td><?php echo $h($call['tocall']); ?></td>
                                            <td><?php echo $h($call['kind']); ?></td>
                                            <td><?php echo $h($call['outcome'] ?? $call['status']); ?></td>
                                            <td><?php echo $call['duration'] === null ? '&ndash;' : $h(sprintf(_('%d s'), $call['duration'])); ?></td>
                                            <td><?php echo $h($call['attempts']); ?></td>
                                            <td><?php echo $h($call['last_webhook'] ?? ''); ?></td>
                                        </tr>
<?php endforeach; ?>
                                    </tbody>
                                </table>
                            </div>
<?php endif; ?>
                        </div>
                        <p class="text-muted apicall-version"><?php echo $h(sprintf(_('API Call %s'), $version)); ?></p>
                    </div>
                </div>
            </div>
        </div>
    </div>
</div>
