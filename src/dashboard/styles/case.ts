/** The case page: media thumbnails and players, locations, entities, the canned replies' form. */
export const CASE_CSS = `.media{list-style:none;padding:0;margin:.5em 0;display:flex;flex-wrap:wrap;gap:.75em}
.media-item{background:#fff;border:1px solid #ddd;padding:.4em;max-width:100%}
.media-item .thumb{display:block;max-width:320px;max-height:320px;margin-bottom:.3em}
.media-item video{display:block;max-width:480px;max-height:360px}
.media-item audio{vertical-align:middle}
.media-pending,.media-absent{color:#555;font-style:italic}
.media-missing{color:#a00}
.location .coords{font-family:ui-monospace,monospace}
.entities{margin:.3em 0}
.entities dt{font-weight:bold}
.entities dd{margin-inline-start:1em}
.entity{font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.canned-form{margin-top:.8em;padding:.5em;border:1px dashed #bbb}
.canned-form label{margin-inline-end:1em}
`;
