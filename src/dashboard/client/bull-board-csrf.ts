/**
 * Loaded first on Bull Board's page (/admin/queues): its own retry and clean buttons post to its
 * API, which the dashboard guards like every state change (same origin and the session's CSRF
 * token). This adds the token, read from the page's meta tag, to Bull Board's same-origin
 * XMLHttpRequest and fetch calls that change state; nothing else is sent anywhere.
 */
export const BULL_BOARD_CSRF_JS = `'use strict';
(function () {
  var m = document.querySelector('meta[name="tiphub-csrf"]');
  if (!m) return;
  var token = m.getAttribute('content') || '';
  var safe = /^(GET|HEAD|OPTIONS)$/i;
  var ours = function (url) {
    try { return new URL(url, location.href).origin === location.origin; } catch (e) { return false; }
  };
  var open = XMLHttpRequest.prototype.open;
  var send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.__tiphubCsrf = !safe.test(String(method)) && ours(String(url));
    return open.apply(this, arguments);
  };
  XMLHttpRequest.prototype.send = function () {
    if (this.__tiphubCsrf) this.setRequestHeader('x-csrf-token', token);
    return send.apply(this, arguments);
  };
  if (window.fetch) {
    var f = window.fetch;
    window.fetch = function (input, init) {
      init = init || {};
      var method = init.method || (input && input.method) || 'GET';
      var url = typeof input === 'string' ? input : input && input.url;
      if (!safe.test(method) && ours(url)) {
        var h = new Headers(init.headers || (input && input.headers) || {});
        h.set('x-csrf-token', token);
        init.headers = h;
      }
      return f.call(this, input, init);
    };
  }
})();
`;
