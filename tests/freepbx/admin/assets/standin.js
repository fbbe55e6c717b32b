/*
 * FreePBX stand-in admin chrome, behaviour kept from FreePBX: an action bar button
 * adds its name=value to the page's form.fpbx-submit and submits it (submit handlers
 * run, as with jQuery's .submit()); a button named reset resets the form; the hide
 * button folds the bar; the list button shows the floating right nav.
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
(function () {
    'use strict';
    document.addEventListener('DOMContentLoaded', function () {
        var bar = document.getElementById('action-bar');
        if (bar) {
            bar.addEventListener('click', function (ev) {
                var el = ev.target.closest ? ev.target.closest('input, button') : null;
                if (!el) {
                    return;
                }
                if (el.id === 'action-bar-hide') {
                    bar.classList.toggle('collapsed');
                    return;
                }
                ev.preventDefault();
                var form = document.querySelector('form.fpbx-submit');
                if (!form) {
                    return;
                }
                if (el.name === 'reset' || el.id === 'reset') {
                    form.reset();
                    return;
                }
                if (el.id === 'delete' && form.getAttribute('data-fpbx-delete')) {
                    if (window.confirm('Are you sure you want to delete this?')) {
                        window.location = form.getAttribute('data-fpbx-delete');
                    }
                    return;
                }
                if (el.name) {
                    var hidden = document.createElement('input');
                    hidden.type = 'hidden';
                    hidden.name = el.name;
                    hidden.value = el.value;
                    form.appendChild(hidden);
                }
                if (typeof form.requestSubmit === 'function') {
                    form.requestSubmit();
                } else {
                    form.submit();
                }
            });
        }
        var listButton = document.getElementById('fixed-list-button');
        if (listButton) {
            listButton.addEventListener('click', function () {
                document.getElementById('floating-nav-bar').classList.toggle('shown');
            });
        }
    });
}());
