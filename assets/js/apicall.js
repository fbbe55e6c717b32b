/*
 * API Call admin page: copy buttons, confirmation of the regenerate forms, showing the
 * webhook secret on request (ajax.php, the admin's session). No jQuery needed.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
(function () {
    'use strict';

    function copyText(text, button) {
        var done = function () {
            var old = button.getAttribute('data-label') || button.innerHTML;
            button.setAttribute('data-label', old);
            button.classList.add('btn-success');
            window.setTimeout(function () {
                button.classList.remove('btn-success');
            }, 1200);
        };
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(text).then(done, function () {
                fallbackCopy(text);
                done();
            });
            return;
        }
        fallbackCopy(text);
        done();
    }

    function fallbackCopy(text) {
        var area = document.createElement('textarea');
        area.value = text;
        area.setAttribute('readonly', '');
        area.style.position = 'absolute';
        area.style.left = '-9999px';
        document.body.appendChild(area);
        area.select();
        try {
            document.execCommand('copy');
        } catch (e) {
            // Nothing more to try: the text stays selectable on the page.
        }
        document.body.removeChild(area);
    }

    document.addEventListener('click', function (ev) {
        var button = ev.target.closest ? ev.target.closest('.apicall-copy') : null;
        if (button) {
            var source = document.getElementById(button.getAttribute('data-copy'));
            if (source) {
                copyText(source.value !== undefined && source.tagName === 'INPUT' ? source.value : source.textContent, button);
            }
            return;
        }
        var reveal = ev.target.closest ? ev.target.closest('.apicall-reveal') : null;
        if (reveal) {
            ev.preventDefault();
            var input = document.getElementById(reveal.getAttribute('data-target'));
            var url = 'ajax.php?module=apicall&command=' + encodeURIComponent(reveal.getAttribute('data-command'));
            fetch(url, {credentials: 'same-origin', headers: {'Accept': 'application/json'}})
                .then(function (r) {
                    return r.json();
                })
                .then(function (data) {
                    if (input && data && data.status) {
                        input.type = 'text';
                        input.value = data.value;
                        input.select();
                    }
                });
        }
    });

    document.addEventListener('submit', function (ev) {
        var form = ev.target;
        if (form.classList && form.classList.contains('apicall-confirm')) {
            if (!window.confirm(form.getAttribute('data-confirm'))) {
                ev.preventDefault();
            }
        }
    }, true);
}());
