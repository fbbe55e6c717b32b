/* API Call admin page: copy the token to the clipboard. SPDX-License-Identifier: GPL-3.0-or-later */
(function () {
    'use strict';
    document.addEventListener('click', function (ev) {
        var button = ev.target.closest ? ev.target.closest('.apicall-copy') : null;
        if (!button) {
            return;
        }
        var input = document.getElementById(button.getAttribute('data-target'));
        if (!input) {
            return;
        }
        input.select();
        if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(input.value);
        } else {
            document.execCommand('copy');
        }
    });
}());
