<?php

/**
 * The module's settings as the admin page shows and checks them: groups, labels, help,
 * and the server-side validation of every value (ranges as the extension accepts them,
 * see rust/core/src/config.rs and fields.rs). The defaults live in
 * Apicall::SETTING_DEFAULTS; values are stored as strings in the module's kvstore.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

declare(strict_types=1);

namespace Apicall;

final class Settings
{
    /** The speech providers a *_provider list may name, in a fallback order. */
    public const PROVIDERS = ['local', 'google', 'openai'];

    /** Settings whose value is never sent back to the browser in full. */
    public const SECRETS = ['openai_api_key', 'webhook_secret'];

    /**
     * The page's groups: id => [title, [setting => [label, help, rule, extra]]].
     * Rules: context, callerid, language, voice, url, public_url, int (extra: [min, max,
     * unit]), providers, model, path, secret, webhook_secret, cidrs, hosts.
     */
    public static function groups(): array
    {
        return [
            'calls' => [_('Calls'), [
                'dial_context' => [_('Dial context'), _('Dialplan context calls are placed through: Local/NUMBER@context.'), 'context'],
                'default_callerid' => [_('Default caller ID'), _('When a request gives none: a number, or Name <number>.'), 'callerid'],
                'default_language' => [_('Default language'), _('When a request gives none: it, en_US, en-GB, ...'), 'language'],
                'default_voice' => [_('Default voice'), _('When a request gives none; empty: the engine\'s default voice.'), 'voice'],
                'public_url' => [_('Public URL'), _('Base URL of the public folder as callers of the API and webhook receivers reach it, e.g. https://pbx.example.com/apicall. Empty: taken from each request.'), 'public_url'],
            ]],
            'speech' => [_('Speech'), [
                'tts_provider' => [_('Text to speech'), _('Providers in fallback order, comma separated: local, google, openai.'), 'providers'],
                'stt_provider' => [_('Speech to text'), _('Providers in fallback order, comma separated: local, google, openai.'), 'providers'],
                'stt_url' => [_('Local speech service'), _('URL of the local speech service (OpenAI-compatible).'), 'url'],
                'stt_model' => [_('Local speech model'), _('Model the local speech service transcribes with.'), 'model'],
                'google_credentials_file' => [_('Google credentials file'), _('Service account JSON key file, readable by the asterisk user.'), 'path'],
                'google_stt_url' => [_('Google Speech-to-Text URL'), _('Leave the default unless a proxy stands in between.'), 'url'],
                'google_tts_url' => [_('Google Text-to-Speech URL'), _('Leave the default unless a proxy stands in between.'), 'url'],
                'google_token_url' => [_('Google token URL'), _('Leave the default unless a proxy stands in between.'), 'url'],
                'openai_base_url' => [_('OpenAI-compatible base URL'), _('https://api.openai.com or a local server speaking the same API.'), 'url'],
                'openai_api_key' => [_('OpenAI API key'), _('Leave empty to keep the stored key.'), 'secret'],
                'openai_tts_model' => [_('OpenAI speech model'), _('Model of /v1/audio/speech.'), 'model'],
                'openai_tts_voice' => [_('OpenAI voice'), _('Voice of /v1/audio/speech.'), 'model'],
                'openai_stt_model' => [_('OpenAI transcription model'), _('Model of /v1/audio/transcriptions.'), 'model'],
            ]],
            'answers' => [_('Recorded answers'), [
                'answer_url_lifetime' => [_('Answer link lifetime'), _('How long the signed link to a recorded answer works.'), 'int', [1, 31536000, _('seconds')]],
                'answer_retention_days' => [_('Keep answers for'), _('Recorded answers are deleted after this many days.'), 'int', [1, 3650, _('days')]],
            ]],
            'webhooks' => [_('Webhooks'), [
                'webhook_timeout' => [_('Webhook timeout'), _('Longest wait for a webhook\'s answer, connection included.'), 'int', [1, 120, _('seconds')]],
                'webhook_connect_timeout' => [_('Webhook connect timeout'), _('Longest wait for the connection to a webhook.'), 'int', [1, 60, _('seconds')]],
                'webhook_retries' => [_('Status event attempts'), _('Attempts to deliver a status event before it is given up.'), 'int', [1, 1000, '']],
                'status_event_ttl_hours' => [_('Status event lifetime'), _('A status event not delivered within this time is given up.'), 'int', [1, 8760, _('hours')]],
                'webhook_fallback_url' => [_('Fallback status URL'), _('Where a status event goes when its own URL fails. Empty: none.'), 'url_or_empty'],
                'webhook_secret' => [_('Webhook signing secret'), _('Key of the HMAC-SHA256 signature of every webhook. Leave empty to keep it.'), 'webhook_secret'],
            ]],
            'limits' => [_('Limits and access'), [
                'max_concurrent_calls' => [_('Concurrent calls'), _('API-started calls at once; more are refused with 429.'), 'int', [1, 100000, '']],
                'token_failures_per_minute' => [_('Token failures per minute'), _('Wrong tokens accepted per source address and minute before 429.'), 'int', [1, 100000, '']],
                'ip_allowlist' => [_('Allowed client addresses'), _('Comma separated addresses or networks (10.0.0.0/8) that may use the API. Empty: any.'), 'cidrs'],
                'allowed_hosts' => [_('Allowed hosts'), _('Comma separated host names MessageUrl and webhooks may point at. Empty: any.'), 'hosts'],
            ]],
        ];
    }

    /** setting => [label, help, rule, extra] for every setting of the page. */
    public static function fields(): array
    {
        $out = [];
        foreach (self::groups() as [, $fields]) {
            $out += $fields;
        }
        return $out;
    }

    /**
     * Checks $input (setting => submitted string) against the rules. Returns
     * [values to store, errors (setting => message)]. Settings not in $input are left
     * alone; an empty secret means "keep the stored one" and is left out.
     */
    public static function validate(array $input): array
    {
        $fields = self::fields();
        $clean = [];
        $errors = [];
        foreach ($input as $key => $raw) {
            if (!isset($fields[$key])) {
                continue;
            }
            if (!is_string($raw)) {
                $errors[$key] = _('Give a single value.');
                continue;
            }
            [, , $rule] = $fields[$key];
            $value = trim($raw);
            if (in_array($key, self::SECRETS, true) && $value === '') {
                continue;
            }
            $error = self::check($rule, $value, $fields[$key][3] ?? []);
            if (is_string($error)) {
                $errors[$key] = $error;
            } else {
                $clean[$key] = $error[0];
            }
        }
        if (isset($clean['webhook_timeout'], $clean['webhook_connect_timeout'])
            && (int) $clean['webhook_connect_timeout'] > (int) $clean['webhook_timeout']) {
            $errors['webhook_connect_timeout'] = _('Must not be longer than the webhook timeout.');
            unset($clean['webhook_connect_timeout']);
        }
        return [$clean, $errors];
    }

    /** [normalized value] when $value passes $rule, else the error message. */
    private static function check(string $rule, string $value, array $extra)
    {
        if (preg_match('/[\x00-\x1f\x7f]/', $value)) {
            return _('Control characters are not allowed.');
        }
        switch ($rule) {
            case 'context':
                return preg_match('/^[A-Za-z0-9_-]{1,79}$/D', $value) ? [$value] : _('A dialplan context: letters, digits, - and _ (79 at most).');
            case 'callerid':
                return self::callerid($value);
            case 'language':
                return preg_match('/^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,4})?$/D', $value) ? [$value] : _('A language tag such as it, it_IT or en-US.');
            case 'voice':
                return $value === '' || preg_match('/^[A-Za-z0-9_.+-]{1,64}$/D', $value) ? [$value] : _('Letters, digits and -_.+ only (64 at most).');
            case 'model':
                return preg_match('#^[A-Za-z0-9][A-Za-z0-9_.:/+-]{0,127}$#D', $value) ? [$value] : _('Letters, digits and -_.:/+ only (128 at most).');
            case 'public_url':
                if ($value === '') {
                    return [''];
                }
                $url = self::url($value);
                if (is_string($url) && (strpos($value, '?') !== false || strpos($value, '#') !== false)) {
                    return _('Without a query or fragment.');
                }
                return is_string($url) ? [rtrim($url, '/')] : $url[0];
            case 'url':
                $url = self::url($value);
                return is_string($url) ? [$url] : $url[0];
            case 'url_or_empty':
                if ($value === '') {
                    return [''];
                }
                $url = self::url($value);
                return is_string($url) ? [$url] : $url[0];
            case 'int':
                [$min, $max] = $extra;
                if (!preg_match('/^[0-9]{1,10}$/D', $value) || (int) $value < $min || (int) $value > $max) {
                    return sprintf(_('A whole number from %d to %d.'), $min, $max);
                }
                return [(string) (int) $value];
            case 'providers':
                return self::providers($value);
            case 'path':
                return $value === '' || (strlen($value) <= 4096 && $value[0] === '/') ? [$value] : _('An absolute path (or empty).');
            case 'secret':
                return preg_match('/^[\x21-\x7e]{1,512}$/D', $value) ? [$value] : _('Printable characters without spaces (512 at most).');
            case 'webhook_secret':
                return preg_match('/^[\x21-\x7e]{32,256}$/D', $value) ? [$value] : _('32 to 256 printable characters without spaces.');
            case 'cidrs':
                return self::cidrs($value);
            case 'hosts':
                return self::hosts($value);
        }
        throw new \LogicException("unknown setting rule $rule");
    }

    /** The URL when it is a plain http(s) URL, else [error]. */
    private static function url(string $value)
    {
        $parts = strlen($value) <= 2048 ? parse_url($value) : false;
        if (!is_array($parts) || !in_array(strtolower($parts['scheme'] ?? ''), ['http', 'https'], true)
            || ($parts['host'] ?? '') === '' || isset($parts['user']) || preg_match('/\s/', $value)) {
            return [_('An http:// or https:// URL.')];
        }
        return $value;
    }

    /** `number`, `Name <number>` or `"Name" <number>`, as the extension reads a caller ID. */
    private static function callerid(string $value)
    {
        $number = '/^\+?[0-9*#]{1,40}$/D';
        if (preg_match($number, $value)) {
            return [$value];
        }
        if (preg_match('/^(.*?)\s*<([^<>]*)>$/sD', $value, $m) && preg_match($number, $m[2])) {
            $name = trim($m[1], ' ');
            if (strlen($name) >= 2 && $name[0] === '"' && substr($name, -1) === '"') {
                $name = substr($name, 1, -1);
            }
            if (mb_strlen($name) <= 64 && !preg_match('/["<>\\\\]/', $name)) {
                return [$value];
            }
        }
        return _('A number (digits, * and #, optional leading +) or Name <number>.');
    }

    private static function providers(string $value)
    {
        $list = array_map('trim', explode(',', strtolower($value)));
        if ($value === '' || in_array('', $list, true)) {
            return sprintf(_('One or more of %s, comma separated.'), implode(', ', self::PROVIDERS));
        }
        foreach ($list as $p) {
            if (!in_array($p, self::PROVIDERS, true)) {
                return sprintf(_('Unknown provider %s: use %s.'), $p, implode(', ', self::PROVIDERS));
            }
        }
        if (count(array_unique($list)) !== count($list)) {
            return _('Name each provider once.');
        }
        return [implode(',', $list)];
    }

    private static function cidrs(string $value)
    {
        $out = [];
        foreach (self::items($value) as $item) {
            $parts = explode('/', $item, 2);
            $ip = filter_var($parts[0], FILTER_VALIDATE_IP);
            $max = $ip !== false && strpos($ip, ':') !== false ? 128 : 32;
            if ($ip === false || (isset($parts[1]) && (!ctype_digit($parts[1]) || (int) $parts[1] > $max))) {
                return sprintf(_('%s is not an address or a network such as 10.0.0.0/8.'), $item);
            }
            $out[] = $item;
        }
        return [implode(',', $out)];
    }

    private static function hosts(string $value)
    {
        $out = [];
        foreach (self::items(strtolower($value)) as $item) {
            $isHost = strlen($item) <= 253
                && preg_match('/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/D', $item);
            if (!$isHost && filter_var(trim($item, '[]'), FILTER_VALIDATE_IP) === false) {
                return sprintf(_('%s is not a host name or address.'), $item);
            }
            $out[] = $item;
        }
        return [implode(',', $out)];
    }

    /** The non-empty items of a comma separated list. */
    private static function items(string $value): array
    {
        return array_values(array_filter(array_map('trim', explode(',', $value)), static fn ($s) => $s !== ''));
    }

    /** What the page shows of a secret: a mask with its last four characters. */
    public static function mask(string $secret): string
    {
        if ($secret === '') {
            return '';
        }
        return str_repeat("\u{2022}", 8) . (strlen($secret) > 12 ? substr($secret, -4) : '');
    }
}
