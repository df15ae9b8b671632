/** On every page: ask before what forms marked data-confirm do; a closing reason only for closed. */
export const CORE_JS = `document.addEventListener('submit', function (e) {
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
