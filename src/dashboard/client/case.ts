/**
 * The case page's composer: choosing a canned reply (or its language) puts the reply's text in
 * that language into the reply box, to be edited and queued there. The texts come from our own
 * escaped data-text-<lang> attributes and are set as the textarea's value (never as markup).
 * Without the script the canned form posts the reply's id and language and the server looks it up.
 */
export const CASE_JS = `(function () {
  function fill(form) {
    var box = document.getElementById(form.dataset.replyBox || '');
    var pick = form.querySelector('select[name=canned]');
    var lang = form.querySelector('select[name=lang]');
    if (!(box instanceof HTMLTextAreaElement) || !(pick instanceof HTMLSelectElement) || !pick.value) return;
    var option = pick.options[pick.selectedIndex];
    var text = (lang instanceof HTMLSelectElement && option.getAttribute('data-text-' + lang.value)) || option.getAttribute('data-text-en') || '';
    box.value = text;
    box.focus();
  }
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (t instanceof HTMLSelectElement && (t.name === 'canned' || t.name === 'lang') && t.form && t.form.classList.contains('canned-form')) fill(t.form);
  });
})();
`;
