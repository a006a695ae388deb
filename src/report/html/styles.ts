/**
 * The page's one stylesheet (inline, system fonts only) and its colours:
 * Okabe–Ito, which stays distinguishable with the common colour-vision
 * deficiencies and in greyscale print. Charts colour marks by class only.
 */
import type { ResultClass } from '../../warehouse/report-data/model.js';

/** Export outcomes (dws.export_cluster_runs.status) to colour classes; unknown ones are grey. */
const STATUS_CLASSES: Readonly<Record<string, string>> = {
  succeeded: 'success',
  incomplete: 'warn',
  failed: 'failed',
  partial: 'warn',
  interrupted: 'other',
  abandoned: 'other',
  running: 'running',
};

export function statusClass(status: string): string {
  return STATUS_CLASSES[status] ?? 'other';
}

/** Staleness buckets, freshest first, to colour classes. */
export const STALENESS_CLASSES = ['success', 'warn', 'failed', 'bad', 'other'] as const;

export const RESULT_LABELS: Readonly<Record<ResultClass, string>> = {
  success: 'success',
  failed: 'failed',
  running: 'running',
  other: 'other result',
};

export const CSS = `
:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC","DejaVu Sans",sans-serif}
main{max-width:1000px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:36px 0 8px;padding-bottom:4px;border-bottom:1px solid #d0d7de}
h3{font-size:15px;margin:18px 0 6px}
p{margin:6px 0}
.sub,.note{color:#57606a}
nav a{margin-right:12px;color:#0969da}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(140px,1fr));gap:8px;margin:12px 0}
.tile{border:1px solid #d0d7de;border-radius:6px;padding:8px 12px}
.tile b{display:block;font-size:22px;font-variant-numeric:tabular-nums}
figure{margin:10px 0 18px}
figcaption{color:#57606a;font-size:13px;margin:4px 0}
svg.chart{display:block;max-width:100%;height:auto;font-family:inherit}
svg .lbl{font-size:11px;fill:#57606a}
svg .name{font-size:12px;fill:#1f2328;unicode-bidi:isolate}
svg .head{font-size:12px;font-weight:600;fill:#1f2328;unicode-bidi:isolate}
.grid{stroke:#d8dee4;stroke-width:1}
.axis{stroke:#8c959f;stroke-width:1}
.now{stroke:#1f2328;stroke-width:1;stroke-dasharray:3 3}
.whisker{stroke:#57606a;stroke-width:1.5}
.median{stroke:#fff;stroke-width:2.5}
.p95{stroke:#1f2328;stroke-width:2}
.success{fill:#009e73;background:#009e73}
.failed{fill:#d55e00;background:#d55e00}
.running{fill:#0072b2;background:#0072b2}
.other{fill:#999;background:#999}
.warn{fill:#e69f00;background:#e69f00}
.bad{fill:#8f2d00;background:#8f2d00}
.box{fill:#56b4e9}
.zebra{fill:#f6f8fa}
.key{display:inline-block;width:11px;height:11px;margin:0 4px 0 12px;border-radius:2px;vertical-align:-1px}
.key:first-child{margin-left:0}
table{border-collapse:collapse;width:100%;font-size:13px;margin:6px 0}
th,td{border-bottom:1px solid #d8dee4;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
bdi,.u{unicode-bidi:isolate}
.id{font:12px ui-monospace,"DejaVu Sans Mono",monospace;color:#57606a}
.log{display:block;white-space:pre-wrap;overflow-wrap:anywhere;font:12px/1.35 ui-monospace,"DejaVu Sans Mono",monospace;max-height:9em;overflow:auto}
.status{display:inline-block;padding:0 6px;border-radius:9px;color:#fff;font-size:12px}
details{margin:4px 0 12px}
summary{cursor:pointer;color:#0969da}
.empty{padding:16px;border:1px dashed #d0d7de;border-radius:6px;color:#57606a}
footer{margin-top:36px;color:#57606a;font-size:12px}
@media print{
  main{max-width:none;padding:0}
  nav,details{display:none}
  h2{break-after:avoid}
  figure,tr,.tile{break-inside:avoid}
  *{print-color-adjust:exact;-webkit-print-color-adjust:exact}
}
`;
