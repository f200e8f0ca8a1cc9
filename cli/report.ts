/** The HTML report of an experiment: one section per run, its parameters, headlines (or its error) and pictures. */
import * as path from 'node:path';
import type { RunRecord } from './execute';
import type { OutputFolder } from './store';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** Writes report.html (atomically) for the records so far, in run order; total is the batch's size. */
export function writeReport(folder: OutputFolder, name: string, description: string | undefined, records: RunRecord[], total = records.length): string {
  const failed = records.filter((r) => r.status === 'failed').length;
  const runs = records
    .map((r) => {
      const params = Object.entries(r.params).map(([k, v]) => `<code>${esc(k)} = ${esc(String(v))}</code>`).join(' ') || '<em>no sweep</em>';
      const steps = r.steps.map((s) => `<li><b>${esc(s.op)}</b>: ${esc(s.headline)}</li>`).join('');
      const error = r.error ? `<p class="failed">failed${r.error.op ? ` at step ${r.error.step + 1} (${esc(r.error.op)})` : ''}: <code>${esc(r.error.code)}</code> ${esc(r.error.message)}</p>` : '';
      const pics = r.pictures.map((p) => `<figure><img src="${esc(p)}" alt="${esc(p)}" loading="lazy"><figcaption>${esc(path.basename(p))}</figcaption></figure>`).join('');
      return `<section id="run-${r.id}"><h2>run ${r.index + 1} <small>${r.id} · ${r.seconds.toFixed(2)} s · ${esc(r.backend)}</small></h2><p>${params}</p>${error}<ul>${steps}</ul><div class="pics">${pics}</div></section>`;
    })
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(name)} — semfield</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:1rem 0}h2 small{color:#777;font-weight:normal;font-size:.8em}
code{background:#f3f3f3;padding:.1em .35em;border-radius:3px;margin-right:.4em}.failed{color:#a00}
.pics{display:flex;flex-wrap:wrap;gap:1rem}figure{margin:0}img{max-width:340px;border:1px solid #ccc}
figcaption{font-size:.8em;color:#666}
</style></head><body>
<h1>${esc(name)}</h1>
${description ? `<p>${esc(description)}</p>` : ''}
<p>${records.length} of ${total} run${total === 1 ? '' : 's'} recorded${failed ? `, ${failed} failed` : ''}; records in <a href="records.ndjson">records.ndjson</a>.</p>
${runs}
</body></html>
`;
  folder.writeFile('report.html', html);
  return path.join(folder.dir, 'report.html');
}
