/**
 * The HTML report of an experiment, which opens from disk with no network:
 * vega, vega-lite and vega-embed are copied into assets/ beside it.
 *
 * - For a sweep: a table of every run's headline figures (the numbers of its
 *   steps' summaries) against the swept parameters, and a plot of each
 *   figure against each parameter (interactive, with tooltips).
 * - One section per run: its parameters, step headlines (or its error) and
 *   figures. Each figure is its PNG (linked at full size) with a one-sentence
 *   caption, replaced in the page by the interactive chart of the same
 *   Vega-Lite specification once it scrolls into view (the specification is
 *   a small script beside the PNG, runs/<id>/<name>.vl.js, loaded then).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunRecord } from './execute';
import type { OutputFolder } from './store';

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

// The browser builds beside each package's main file (all three keep them in build/).
const ASSETS = [
  ['vega', 'vega.min.js'],
  ['vega-lite', 'vega-lite.min.js'],
  ['vega-embed', 'vega-embed.min.js'],
] as const;
const copied = new WeakSet<OutputFolder>();

function writeAssets(folder: OutputFolder): void {
  if (copied.has(folder)) return;
  for (const [pkg, file] of ASSETS) folder.writeFile(`assets/${file}`, fs.readFileSync(path.join(path.dirname(require.resolve(pkg)), file)));
  copied.add(folder);
}

/** A run's headline figures: the numbers of its steps' summaries, as `op.key` (peaks as `op.peak.w`). */
export function headlineFigures(r: RunRecord): Record<string, number> {
  const out: Record<string, number> = {};
  const seen = new Map<string, number>();
  for (const s of r.steps) {
    const n = (seen.get(s.op) ?? 0) + 1;
    seen.set(s.op, n);
    const op = n > 1 ? `${s.op}${n}` : s.op;
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number' && Number.isFinite(v)) out[`${op}.${k}`] = v;
      else if (v && typeof v === 'object' && !Array.isArray(v))
        for (const [k2, v2] of Object.entries(v)) if (typeof v2 === 'number' && Number.isFinite(v2)) out[`${op}.${k}.${k2}`] = v2;
    }
  }
  return out;
}

const fmt = (v: unknown) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4)) : esc(String(v)));

/** The sweep's table and plots (nothing for a batch of one run). */
function sweepSection(records: RunRecord[]): { html: string; specs: unknown[] } {
  if (records.length < 2) return { html: '', specs: [] };
  const params = [...new Set(records.flatMap((r) => Object.keys(r.params)))];
  const figs = records.map(headlineFigures);
  const keys = [...new Set(figs.flatMap((f) => Object.keys(f)))].filter((k) => new Set(figs.map((f) => f[k])).size > 1 || params.length === 0).slice(0, 16);
  const head = `<tr><th>run</th><th>status</th>${params.map((p) => `<th class="param">${esc(p)}</th>`).join('')}${keys.map((k) => `<th>${esc(k)}</th>`).join('')}</tr>`;
  const rows = records
    .map((r, i) => `<tr class="${r.status}"><td><a href="#run-${r.id}">${r.index + 1}</a></td><td>${r.status}</td>${params.map((p) => `<td class="param">${fmt(r.params[p])}</td>`).join('')}${keys.map((k) => `<td>${figs[i][k] === undefined ? '' : fmt(figs[i][k])}</td>`).join('')}</tr>`)
    .join('');
  const swept = params.filter((p) => new Set(records.map((r) => r.params[p])).size > 1);
  const values = records.map((r, i) => ({ run: r.index + 1, ...Object.fromEntries(params.map((p) => [p, r.params[p]])), ...figs[i] }));
  // Field names as Vega-Lite reads them: a dot would mean a nested field.
  const f = (name: string) => name.replace(/[.[\]\\]/g, (c) => `\\${c}`);
  const specs: unknown[] = [];
  for (const k of keys)
    for (const p of swept) {
      if (specs.length >= 30) break;
      const other = swept.find((q) => q !== p);
      const numeric = records.every((r) => typeof r.params[p] === 'number');
      specs.push({
        $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
        title: `${k} against ${p}`,
        width: 300,
        height: 180,
        data: { values: values.filter((v) => (v as Record<string, unknown>)[k] !== undefined) },
        mark: { type: 'line', point: { filled: true, size: 40 } },
        encoding: {
          x: { field: f(p), title: p, type: numeric ? 'quantitative' : 'ordinal', scale: numeric ? { zero: false } : undefined },
          y: { field: f(k), title: k, type: 'quantitative', scale: { zero: false } },
          ...(other ? { color: { field: f(other), title: other, type: 'nominal' } } : {}),
          tooltip: [{ field: 'run' }, ...params.map((q) => ({ field: f(q), title: q })), { field: f(k), title: k, format: '.4~g' }],
        },
      });
    }
  const html = `<section id="sweep"><h2>The sweep</h2><p>Each run's headline figures against the swept parameters (${swept.map(esc).join(', ') || 'none'}).</p>
<div class="table"><table><thead>${head}</thead><tbody>${rows}</tbody></table></div>
<div class="plots">${specs.map((_, i) => `<div class="chart sweep" data-inline="${i}"></div>`).join('')}</div></section>`;
  return { html, specs };
}

/** Writes report.html (atomically) for the records so far, in run order; total is the batch's size. */
export function writeReport(folder: OutputFolder, name: string, description: string | undefined, records: RunRecord[], total = records.length): string {
  writeAssets(folder);
  const failed = records.filter((r) => r.status === 'failed').length;
  const sweep = sweepSection(records);
  const runs = records
    .map((r) => {
      const params = Object.entries(r.params).map(([k, v]) => `<code>${esc(k)} = ${esc(String(v))}</code>`).join(' ') || '<em>no sweep</em>';
      const steps = r.steps.map((s) => `<li><b>${esc(s.op)}</b>: ${esc(s.headline)}</li>`).join('');
      const error = r.error ? `<p class="failed">failed${r.error.op ? ` at step ${r.error.step + 1} (${esc(r.error.op)})` : ''}: <code>${esc(r.error.code)}</code> ${esc(r.error.message)}</p>` : '';
      const figures = (r.figures ?? r.pictures.map((p) => ({ picture: p, spec: '', caption: path.basename(p) })))
        .map((f) => `<figure>${f.spec ? `<div class="chart" data-spec="${esc(f.spec)}"></div>` : ''}<a class="still" href="${esc(f.picture)}" target="_blank"><img src="${esc(f.picture)}" alt="${esc(f.caption)}" loading="lazy"></a><figcaption>${esc(f.caption)} <a href="${esc(f.picture)}" target="_blank">Full size</a>.</figcaption></figure>`)
        .join('');
      return `<section class="run" id="run-${r.id}"><h2>run ${r.index + 1} <small>${r.id} · ${r.seconds.toFixed(2)} s · ${esc(r.backend)}</small></h2><p>${params}</p>${error}<ul>${steps}</ul><div class="figures">${figures}</div></section>`;
    })
    .join('\n');
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(name)} — semfield</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1400px;padding:0 1rem;color:#222}
section{border-top:1px solid #ddd;padding:1rem 0}h2 small{color:#777;font-weight:normal;font-size:.8em}
code{background:#f3f3f3;padding:.1em .35em;border-radius:3px;margin-right:.4em}.failed{color:#a00}
.figures{display:flex;flex-wrap:wrap;gap:1.5rem;align-items:flex-start}figure{margin:0;max-width:100%}
figure img{max-width:100%;width:680px;border:1px solid #ddd}figure .chart:not(:empty)+a.still{display:none}
figcaption{font-size:.9em;color:#444;max-width:680px;margin-top:.3rem}
.table{overflow-x:auto}table{border-collapse:collapse;font-size:.85em}th,td{border:1px solid #ddd;padding:.2em .5em;text-align:right}
th.param,td.param{background:#f6f8ff}tr.failed td{color:#a00}.plots{display:flex;flex-wrap:wrap;gap:1rem;margin-top:1rem}
</style>
<script src="assets/vega.min.js"></script><script src="assets/vega-lite.min.js"></script><script src="assets/vega-embed.min.js"></script>
</head><body>
<h1>${esc(name)}</h1>
${description ? `<p>${esc(description)}</p>` : ''}
<p>${records.length} of ${total} run${total === 1 ? '' : 's'} recorded${failed ? `, ${failed} failed` : ''}; records in <a href="records.ndjson">records.ndjson</a>. Charts are interactive: hover for values, click a picture's link for its full-size PNG.</p>
${sweep.html}
${runs}
<script type="application/json" id="sweep-specs">${JSON.stringify(sweep.specs).replace(/</g, '\\u003c')}</script>
<script>
(function () {
  var opts = { actions: false, renderer: 'svg' };
  function embed(el, spec) {
    vegaEmbed(el, spec, opts).then(function () { el.dataset.rendered = '1'; }, function (e) { el.dataset.rendered = 'error'; console.error('chart', e); });
  }
  var sweep = JSON.parse(document.getElementById('sweep-specs').textContent);
  document.querySelectorAll('.chart[data-inline]').forEach(function (el) { embed(el, sweep[+el.dataset.inline]); });
  function load(el) {
    var key = el.dataset.spec, s = document.createElement('script');
    s.src = key;
    s.onload = function () { embed(el, window.SEMFIELD_SPECS[key]); };
    s.onerror = function () { el.dataset.rendered = 'error'; console.error('chart: cannot load ' + key); };
    document.head.appendChild(s);
  }
  var charts = document.querySelectorAll('.chart[data-spec]');
  if (!('IntersectionObserver' in window)) return charts.forEach(load);
  var io = new IntersectionObserver(function (entries) {
    entries.forEach(function (e) { if (e.isIntersecting) { io.unobserve(e.target); load(e.target); } });
  }, { rootMargin: '400px' });
  charts.forEach(function (el) { io.observe(el); });
})();
</script>
</body></html>
`;
  folder.writeFile('report.html', html);
  return path.join(folder.dir, 'report.html');
}
