/**
 * The layout every page shares. Only logical properties (start/end, inline), so that an Arabic
 * page (dir="rtl" on <html>) mirrors without rules of its own.
 */
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
[dir=rtl] body{font-family:system-ui,"Noto Naskh Arabic","Noto Sans Arabic","DejaVu Sans",sans-serif;line-height:1.6}
.notice{color:#060;font-weight:bold}
.settings{max-width:40em;margin-block-end:1.5em}
.api-op{border-top:1px solid #ddd;padding-block:.5em}
.api-op .method{font-family:monospace;font-weight:bold}
.api-op h4{margin-block:.6em .2em}
.schema ul,.api-op ul{margin-block:.2em;padding-inline-start:1.5em}
.api-op dd{margin-inline-start:1.5em}
code{overflow-wrap:anywhere}
a[href^="/cases/"]{white-space:nowrap}
`;
