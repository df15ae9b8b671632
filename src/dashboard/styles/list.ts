/** The case list: the search box, the bulk bar, the keyboard's row, the keys panel. */
export const LIST_CSS = `.filters{display:flex;flex-wrap:wrap;gap:.4em 1em;align-items:center;margin-bottom:.6em}
.filters .search input{min-width:16em}
.bulk-bar{display:flex;flex-wrap:wrap;gap:.4em 1.2em;align-items:center;border:1px solid #ccd;padding:.3em .6em;margin:.4em 0}
td.pick,th.pick{width:1.6em}
tr.case.current{outline:2px solid #36c;outline-offset:-2px;background:#eef3ff}
tr.case:has(input[name=refs]:checked){background:#fff7d6}
.flag-campaign{font-size:80%;padding:0 .3em;border:1px solid #b50;color:#b50;border-radius:.3em}
.keys-hint{color:#555;font-size:90%}
#keys-help{position:fixed;inset-block-start:4em;inset-inline-end:1em;background:#fff;border:1px solid #888;padding:.6em 1em;box-shadow:0 2px 8px rgba(0,0,0,.2);z-index:10}
#keys-help kbd{display:inline-block;min-width:1.4em;text-align:center;border:1px solid #aaa;border-radius:.2em;padding:0 .2em;margin-inline-end:.3em;font-family:monospace}
.bulk-outcome dd{margin-inline-start:1em;margin-bottom:.4em}
`;
