/** The overview page (GET /overview): its sections in a grid, the pictures scaled to their box. */
export const OVERVIEW_CSS = `.ov-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(18em,1fr));gap:1em 2em;margin:1em 0}
.ov-grid section,.ov-hourly,.ov-map{background:#fff;border:1px solid #ddd;padding:.5em 1em}
.ov-picture{overflow-x:auto}
.ov-picture svg{max-width:100%;height:auto;display:block}
svg.map{max-width:600px}
svg.map a.map-point:hover circle,svg.map a.map-point:focus circle{fill-opacity:.9;stroke-width:2}
svg.chart rect.bar:hover{opacity:.75}
.ov-hourly-table td,.ov-queues td{font-variant-numeric:tabular-nums}
.ov-failed{color:#a00;font-weight:bold}
.ov-campaign ul{padding-inline-start:1.2em}
.ov-campaign .first-words{color:#333;overflow-wrap:anywhere}
`;
