/**
 * The live case list: on the list (#case-rows) it listens to /events and, when cases got reports,
 * fetches the list as it is shown (the same URL, so the same filters and page) and swaps in its
 * rows: parsed by DOMParser (no script in it runs) from our own escaped HTML, never innerHTML on
 * data. Ticked rows stay ticked. Without the script the page works as before, changing on reload.
 */
export const LIVE_LIST_JS = `(function () {
  var rows = document.getElementById('case-rows');
  if (!rows || typeof EventSource !== 'function' || typeof DOMParser !== 'function') return;
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: 'same-origin', headers: { accept: 'text/html', 'x-tiphub-live': '1' }, redirect: 'manual' })
      .then(function (r) {
        if (r.status !== 200) throw new Error('list not refreshed: ' + r.status);
        return r.text();
      })
      .then(function (text) {
        var fresh = new DOMParser().parseFromString(text, 'text/html').getElementById('case-rows');
        var now = document.getElementById('case-rows');
        if (!fresh || !now) return;
        // The rows ticked for a bulk action stay ticked (client/list.ts keeps its selected row).
        var ticked = {};
        Array.prototype.forEach.call(now.querySelectorAll('input[name=refs]:checked'), function (c) { ticked[c.value] = true; });
        fresh = document.adoptNode(fresh);
        Array.prototype.forEach.call(fresh.querySelectorAll('input[name=refs]'), function (c) { if (ticked[c.value]) c.checked = true; });
        now.replaceWith(fresh);
        document.dispatchEvent(new CustomEvent('tiphub:rows'));
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
`;
