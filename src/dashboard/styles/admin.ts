/** The admin pages: the operators' table with its row forms, the one-time password, sessions. */
export const ADMIN_CSS = `.operators td form{display:inline-block;margin:0 .3em .2em 0}
.operators tr.disabled td{color:#777}
.operators .state-locked{color:#a00}
.add-operator{margin:1em 0;padding:.5em 1em;background:#fff;border:1px solid #ddd}
.one-time{font:1.3em/1.4 ui-monospace,monospace;background:#fff;border:2px dashed #223;padding:.5em 1em;display:inline-block;user-select:all;direction:ltr}
.operator-sessions{margin:1em 0}
.sessions tr.current td{font-weight:bold}
`;
