/**
 * The keys (issue 11, item 5). On the list: j or ↓ and k or ↑ move a visible selection over the
 * rows, Enter or o opens its case, x ticks its checkbox for the bulk actions. On a case page: s
 * goes to the status, a assigns the case to me (the page's own "assign to me" form), e to the note.
 * ? shows the keys, Escape hides them. Never while typing in a field, nor with Ctrl, Alt or Meta.
 * The case page's forms are found by what they are (their action and fields), so this script needs
 * nothing from that page. The keys' names come from src/dashboard/i18n/list.ts, as text only.
 */
import { listAr, listEn } from '../i18n/list';

const KEY_NAMES = JSON.stringify({ en: { title: listEn.keysTitle, ...listEn.keys }, ar: { title: listAr.keysTitle, ...listAr.keys } });

export const LIST_JS = `(function () {
  var NAMES = ${KEY_NAMES};
  var names = NAMES[document.documentElement.lang] || NAMES.en;
  var current = null; // the data-ref of the selected row, kept across live refreshes
  function rows() { return Array.prototype.slice.call(document.querySelectorAll('#case-rows tr.case')); }
  function mark() {
    var found = null;
    rows().forEach(function (r) {
      var on = r.dataset.ref === current;
      r.classList.toggle('current', on);
      if (on) { r.setAttribute('aria-selected', 'true'); found = r; } else r.removeAttribute('aria-selected');
    });
    return found;
  }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var i = all.findIndex(function (r) { return r.dataset.ref === current; });
    i = i < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, i + step));
    current = all[i].dataset.ref;
    var r = mark();
    if (r) r.scrollIntoView({ block: 'nearest' });
  }
  function currentRow() { return current === null ? null : mark(); }
  function help() {
    var h = document.getElementById('keys-help');
    if (h) { h.hidden = !h.hidden; return; }
    h = document.createElement('div');
    h.id = 'keys-help';
    h.setAttribute('role', 'dialog');
    h.setAttribute('aria-label', names.title);
    var t = document.createElement('h2');
    t.textContent = names.title;
    h.appendChild(t);
    var dl = document.createElement('dl');
    [['j', '\\u2193', names.next], ['k', '\\u2191', names.previous], ['Enter', 'o', names.open], ['x', null, names.toggle],
     ['s', null, names.status], ['a', null, names.assignMe], ['e', null, names.note], ['?', null, names.help]].forEach(function (k) {
      var dt = document.createElement('dt');
      [k[0], k[1]].forEach(function (name) {
        if (!name) return;
        var kbd = document.createElement('kbd');
        kbd.textContent = name;
        dt.appendChild(kbd);
      });
      var dd = document.createElement('dd');
      dd.textContent = k[2];
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    h.appendChild(dl);
    document.body.appendChild(h);
  }
  function typing(el) {
    return el instanceof HTMLElement && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener('tiphub:rows', mark);
  document.addEventListener('keydown', function (e) {
    var t = e.target;
    // Enter in the bulk bar's fields does what its own button says (not the form's first button).
    if (e.key === 'Enter' && t instanceof HTMLInputElement && t.form && t.form.id === 'bulk') {
      var b = t.form.querySelector(t.name === 'tag' ? 'button[formaction="/bulk/tags"]' : t.name === 'to' ? 'button[formaction="/bulk/assign"]:not([name])' : 'none');
      if (b) { e.preventDefault(); b.click(); }
      return;
    }
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || e.isComposing || typing(t)) return;
    var onList = !!document.getElementById('case-rows');
    var el;
    switch (e.key) {
      case '?':
        help();
        break;
      case 'Escape':
        el = document.getElementById('keys-help');
        if (!el || el.hidden) return;
        el.hidden = true;
        break;
      case 'j': case 'ArrowDown':
        if (!onList) return;
        move(1);
        break;
      case 'k': case 'ArrowUp':
        if (!onList) return;
        move(-1);
        break;
      case 'Enter': case 'o':
        // A focused link or button keeps its own Enter.
        if (!onList || (e.key === 'Enter' && t instanceof HTMLElement && t.closest('a,button'))) return;
        el = currentRow();
        el = el && el.querySelector('a[href^="/cases/"]');
        if (!el) return;
        el.click();
        break;
      case 'x':
        if (!onList) return;
        el = currentRow();
        el = el && el.querySelector('input[name=refs]');
        if (!el) return;
        el.checked = !el.checked;
        break;
      case 's':
        el = document.querySelector('form[action$="/status"] select[name=status]');
        if (!el) return;
        el.focus();
        break;
      case 'a':
        el = Array.prototype.find.call(document.querySelectorAll('form[action$="/assign"]'), function (f) { return f.querySelector('input[type=hidden][name=to]'); });
        if (!el) return;
        el.requestSubmit();
        break;
      case 'e':
        el = document.querySelector('form[action$="/notes"] textarea[name=text]');
        if (!el) return;
        el.focus();
        break;
      default:
        return;
    }
    e.preventDefault();
  });
})();
`;
