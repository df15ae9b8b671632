/** The layout every page shares. */
export const BASE_CSS = `body{font:15px/1.4 system-ui,sans-serif;margin:0;color:#111;background:#fafafa}
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
header nav{display:flex;gap:1em;flex:1}
[dir=rtl] th,[dir=rtl] td{text-align:start}
`;
