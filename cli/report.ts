/** The HTML report of an experiment: one section per run, its parameters, headlines and pictures. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunRecord } from './runner';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function writeReport(out: string, name: string, description: string | undefined, records: RunRecord[]): string {
  const runs = records
    .map((r) => {
      const params = Object.entries(r.params).map(([k, v]) => `<code>${esc(k)} = ${esc(String(v))}</code>`).join(' ') || '<em>no sweep</em>';
      const steps = r.steps.map((s) => `<li><b>${esc(s.op)}</b>: ${esc(s.headline)}</li>`).join('');
      const pics = r.pictures.map((p) => `<figure><img src="${esc(p)}" alt="${esc(p)}" loading="lazy"><figcaption>${esc(path.basename(p))}</figcaption></figure>`).join('');
      return `<section id="run-${r.id}"><h2>run ${r.index + 1} <small>${r.id} · ${r.seconds.toFixed(2)} s · ${esc(r.backend)}</small></h2><p>${params}</p><ul>${steps}</ul><div class="pics">${pics}</div></section>`;
    })
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(name)} — semfield</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:1rem 0}h2 small{color:#777;font-weight:normal;font-size:.8em}
code{background:#f3f3f3;padding:.1em .35em;border-radius:3px;margin-right:.4em}
.pics{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}img{max-width:340px;border:1px solid #ccc}
figcaption{font-size:.8em;color:#666}
</style></head><body>
<h1>${esc(name)}</h1>
${description ? `<p>${esc(description)}</p>` : ''}
<p>${records.length} run${records.length === 1 ? '' : 's'}; records in <a href="records.ndjson">records.ndjson</a>.</p>
${runs}
</body></html>
`;
  const file = path.join(out, 'report.html');
  fs.writeFileSync(file, html);
  return file;
}
