/**
 * The dashboard's one script and one stylesheet, served by the app itself (no CDN, nothing
 * inline, so the CSP can forbid inline code). Kept as module text so `tsc` ships them with the
 * build without a copy step.
 */

/**
 * Asks before closing a case or removing a tag (forms marked data-confirm). On the case list
 * (#case-rows), listens to /events and, when cases got reports, fetches the list as it is shown
 * (the same URL, so the same filters and page) and swaps in its rows: parsed by DOMParser (no
 * script in it runs) from our own escaped HTML, never innerHTML on data. Without the script the
 * page works as before, changing on reload.
 */
export const DASHBOARD_JS = `'use strict';
(function () {
  var rows = document.getElementById('case-rows');
  if (!rows || typeof EventSource !== 'function' || typeof DOMParser !== 'function') return;
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { accept: 'text/html' }, redirect: 'manual' })
      .then(function (r) {
        if (r.status !== 200) throw new Error('list not refreshed: ' + r.status);
        return r.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('case-rows');
        var now = document.getElementById('case-rows');
        if (fresh && now) now.replaceWith(document.adoptNode(fresh));
      })
      .catch(function () { /* the next event, or a reload, catches up */ })
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }
  var es = new EventSource(rows.dataset.live || '/events');
  es.addEventListener('cases', refresh);
  // The session ended (logout elsewhere, timeout): the stream is refused; stop asking.
  es.addEventListener('error', function () { if (es.readyState === EventSource.CLOSED) es.close(); });
})();
document.addEventListener('submit', function (e) {
  var f = e.target;
  if (f instanceof HTMLFormElement && f.dataset.confirm && !window.confirm(f.dataset.confirm)) e.preventDefault();
});
document.addEventListener('change', function (e) {
  var s = e.target;
  if (s instanceof HTMLSelectElement && s.name === 'status' && s.form) {
    var r = s.form.querySelector('[name=reason]');
    if (r) r.disabled = s.value !== 'closed';
  }
});
`;

export const DASHBOARD_CSS = `body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#111;background:#fafafa}
header{display:flex;gap:1em;align-items:center;padding:.5em 1em;background:#223;color:#fff}
header a{color:#fff}
main{padding:1em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:start;vertical-align:top}
.inline{display:inline}
.error{color:#a00;font-weight:bold}
.tip{white-space:pre-wrap;overflow-wrap:anywhere;background:#fff;border:1px solid #ddd;padding:.5em}
.report{margin:1em 0}
.meta{color:#555;font-size:90%}
.actions form{margin:.3em 0}
.prio-urgent{color:#a00;font-weight:bold}
.prio-high{color:#b50}
`;
