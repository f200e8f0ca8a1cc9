/**
 * The main job on built-in data: the semantic field of a themed vocabulary.
 *
 *   npm run demo -- [--out out/demo] [--n 256] [--kappa 24] [--all]
 *
 * Words (GloVe-derived vectors bundled in data/) are projected to the plane by
 * PCA, deposited as unit charges, and their screened potential is solved; its
 * peaks (the wells an attracted concept settles in) are condensed into basins,
 * and each word joins the basin it lies in. Then in the embedding space itself
 * (100 dimensions, no grid): documents (groups of words) ranked for query
 * phrases by energy distance and by cosine, the words condensed by mean shift,
 * and themes induced from one seed word each. Then the fractal view: a word
 * as a fractal token unfolded under two contexts, and the field compressed by
 * the fractal codec and decoded at twice its resolution. Writes field.png,
 * basins.png, token.png, field-x2.png and summary.json into the output folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fractalDemo } from './fractal-demo';
import { condense, deposit, device, encodePng, fieldToRgb, labelsToRgb, loadVocabulary, points, potential, project } from '../lib';

const THEMES: Record<string, string[]> = {
  animals: ['dog', 'cat', 'horse', 'cow', 'pig', 'sheep', 'wolf', 'bear', 'lion', 'tiger', 'elephant', 'monkey', 'rabbit', 'deer', 'fox', 'mouse', 'snake', 'bird', 'eagle', 'duck', 'goat', 'chicken', 'whale', 'shark', 'frog'],
  countries: ['france', 'germany', 'italy', 'spain', 'china', 'japan', 'india', 'russia', 'brazil', 'mexico', 'canada', 'australia', 'egypt', 'kenya', 'nigeria', 'argentina', 'sweden', 'norway', 'poland', 'turkey', 'iran', 'iraq', 'pakistan', 'vietnam', 'korea'],
  food: ['bread', 'cheese', 'butter', 'milk', 'rice', 'pasta', 'soup', 'salad', 'chicken', 'beef', 'pork', 'fish', 'apple', 'banana', 'orange', 'potato', 'tomato', 'onion', 'garlic', 'sugar', 'salt', 'pepper', 'chocolate', 'cake', 'coffee'],
  music: ['guitar', 'piano', 'violin', 'drum', 'jazz', 'rock', 'song', 'album', 'band', 'singer', 'concert', 'orchestra', 'melody', 'rhythm', 'opera', 'symphony', 'chorus', 'lyrics', 'bass', 'trumpet', 'saxophone', 'blues', 'hip', 'pop', 'musician'],
  science: ['physics', 'chemistry', 'biology', 'atom', 'molecule', 'electron', 'proton', 'energy', 'quantum', 'gravity', 'theory', 'experiment', 'laboratory', 'scientist', 'equation', 'particle', 'cell', 'gene', 'protein', 'dna', 'neutron', 'radiation', 'magnetic', 'chemical', 'hypothesis'],
  emotions: ['happy', 'sad', 'angry', 'fear', 'joy', 'love', 'hate', 'anxiety', 'grief', 'pride', 'shame', 'guilt', 'hope', 'despair', 'anger', 'sorrow', 'delight', 'jealousy', 'excitement', 'boredom', 'lonely', 'calm', 'nervous', 'afraid', 'cheerful'],
  sports: ['football', 'soccer', 'basketball', 'baseball', 'tennis', 'golf', 'hockey', 'cricket', 'rugby', 'boxing', 'wrestling', 'swimming', 'cycling', 'marathon', 'olympic', 'championship', 'tournament', 'league', 'coach', 'stadium', 'goal', 'referee', 'athlete', 'team', 'match'],
  weather: ['rain', 'snow', 'wind', 'storm', 'cloud', 'sunny', 'thunder', 'lightning', 'fog', 'hail', 'hurricane', 'tornado', 'drought', 'flood', 'temperature', 'humidity', 'forecast', 'frost', 'breeze', 'rainfall', 'monsoon', 'blizzard', 'heatwave', 'climate', 'weather'],
};

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

const step = (msg: string) => process.stdout.write(`\n▸ ${msg}`);
const done = (msg = '') => process.stdout.write(` ✓ ${msg}`);

// Nearest-neighbour upscaling so a 256-cell field is readable on screen.
function upscale(rgb: Uint8Array, w: number, h: number, k: number): Uint8Array {
  const out = new Uint8Array(w * k * h * k * 3);
  for (let y = 0; y < h * k; y++)
    for (let x = 0; x < w * k; x++) out.set(rgb.subarray(((Math.floor(y / k) * w + Math.floor(x / k)) * 3), (Math.floor(y / k) * w + Math.floor(x / k)) * 3 + 3), (y * w * k + x) * 3);
  return out;
}

// Marks the words' cells in white (image rows run top to bottom, y upwards).
function markWords(rgb: Uint8Array, cells: number[], n: number): void {
  for (const c of cells) {
    const x = c % n, y = Math.floor(c / n);
    const o = ((n - 1 - y) * n + x) * 3;
    rgb[o] = rgb[o + 1] = rgb[o + 2] = 255;
  }
}

async function main(): Promise<void> {
  const out = arg('out', path.join('out', 'demo'));
  const n = Number(arg('n', '256'));
  const kappa = Number(arg('kappa', '24'));
  const all = process.argv.includes('--all');
  fs.mkdirSync(out, { recursive: true });
  const t0 = Date.now();
  const info = device.info();
  process.stdout.write(`semfield demo — backend ${info.auto} (${info.threads} threads; built: ${info.built.join(', ')})`);

  step('loading the bundled vocabulary');
  const vocab = loadVocabulary();
  done(`${vocab.n} words x ${vocab.d} dims`);

  const theme = new Map<string, string>();
  for (const [t, ws] of Object.entries(THEMES)) for (const w of ws) if (vocab.indexOf(w) !== undefined && !theme.has(w)) theme.set(w, t);
  const words = all ? vocab.words : [...theme.keys()];
  step(`projecting ${words.length} words to the plane (PCA of unit vectors)`);
  const x = vocab.rows(words);
  for (let i = 0; i < words.length; i++) {
    let s = 0;
    for (let j = 0; j < vocab.d; j++) s += x[i * vocab.d + j] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < vocab.d; j++) x[i * vocab.d + j] *= inv;
  }
  const grid = { n: [n, n], h: 1 / n, boundary: 'dirichlet' as const };
  const proj = await project(x, { d: vocab.d, grid, margin: 0.08 });
  done(`explained variance ${(100 * (proj.transform.explainedRatio[0] + proj.transform.explainedRatio[1])).toFixed(1)}%`);

  step(`depositing ${words.length} unit charges on a ${n}x${n} grid`);
  const rho = await deposit(proj.positions, grid);
  done();

  // A point charge's potential is a log spike in 2D, so every word would be a
  // peak of its own. The field of the field, (-lap + kappa^2)^-2 rho, has a
  // smooth Green's function (r K1(kappa r) / 2 kappa): nearby words merge
  // into one peak, distant groups stay apart.
  const solve = async (src: Float32Array, label: string) => {
    const title = `solving (-lap + ${kappa}^2) ${label} by multigrid`;
    step(title);
    const r = await potential(src, grid, {
      kappa,
      tol: 1e-7,
      onProgress: (_f, cycle, res) => process.stdout.write(`\r▸ ${title}: cycle ${cycle}, residual ${res.toExponential(2)}   `),
    });
    const st = r.fields[0];
    done(`${st.cycles} cycles, residual ${st.residual.toExponential(2)}`);
    return r;
  };
  const first = await solve(rho, 'psi = rho');
  const pot = await solve(first.phi, 'phi = psi');
  const st = pot.fields[0];

  step('condensing the field into basins');
  const cond = await condense(pot.phi, grid, { seek: 'max', rho });
  const cellOf = (i: number) => {
    const cx = Math.min(n - 1, Math.floor(proj.positions[2 * i] / grid.h));
    const cy = Math.min(n - 1, Math.floor(proj.positions[2 * i + 1] / grid.h));
    return cy * n + cx;
  };
  const members = new Map<number, string[]>();
  words.forEach((w, i) => {
    const b = cond.labels[cellOf(i)];
    if (!members.has(b)) members.set(b, []);
    members.get(b)!.push(w);
  });
  const basins = cond.fields[0]
    .map((b, i) => ({ id: i, ...b, words: members.get(i) ?? [] }))
    .filter((b) => b.words.length > 0)
    .sort((a, b) => b.mass - a.mass);
  done(`${basins.length} basins hold words (${cond.fields[0].length} extrema in all)`);

  step('writing pictures and the summary');
  const cells = words.map((_, i) => cellOf(i));
  const fieldRgb = fieldToRgb(pot.phi, n, n);
  markWords(fieldRgb, cells, n);
  fs.writeFileSync(path.join(out, 'field.png'), encodePng(upscale(fieldRgb, n, n, 2), 2 * n, 2 * n));
  const basinRgb = labelsToRgb(cond.labels, n, n);
  markWords(basinRgb, cells, n);
  fs.writeFileSync(path.join(out, 'basins.png'), encodePng(upscale(basinRgb, n, n, 2), 2 * n, 2 * n));
  const summary = {
    words: words.length,
    grid: { n: [n, n], h: grid.h, boundary: grid.boundary },
    kappa,
    backend: pot.backend,
    solver: { cycles: first.fields[0].cycles + st.cycles, residual: st.residual, converged: st.converged, energy: st.energy },
    explainedVariance: proj.transform.explainedRatio,
    basins: basins.map((b) => {
      const counts: Record<string, number> = {};
      if (!all) for (const w of b.words) counts[theme.get(w)!] = (counts[theme.get(w)!] ?? 0) + 1;
      const top = Object.entries(counts).sort((p, q) => q[1] - p[1])[0];
      return {
        position: b.position.map((v) => +v.toFixed(4)),
        potential: b.value,
        mass: b.mass,
        cells: b.cells,
        mainTheme: top ? { theme: top[0], share: +(top[1] / b.words.length).toFixed(3) } : undefined,
        words: b.words,
      };
    }),
    seconds: (Date.now() - t0) / 1000,
  };
  const space = all ? undefined : await embeddingSpace(words, x, vocab.d, theme);
  const fractalView = await fractalDemo(out, vocab, pot.phi, n, step, done);
  step('writing the summary');
  fs.writeFileSync(path.join(out, 'summary.json'), JSON.stringify({ ...summary, embeddingSpace: space, fractal: fractalView }, null, 2));
  done(out);

  process.stdout.write('\n\nWords that condense together (largest basins):\n');
  for (const b of summary.basins.slice(0, 8))
    process.stdout.write(`  ${(b.mainTheme ? `${b.mainTheme.share < 0.5 ? 'mixed, ' : ''}${b.mainTheme.theme} ${(100 * b.mainTheme.share).toFixed(0)}%` : '').padEnd(22)} ${b.words.slice(0, 12).join(', ')}${b.words.length > 12 ? ', …' : ''}\n`);
  process.stdout.write(`\nfinished in ${((Date.now() - t0) / 1000).toFixed(2)} s: ${path.join(out, 'field.png')}, basins.png, token.png, field-x2.png, summary.json\n`);
}

// The points view on the same words: search, condensation, induction.
async function embeddingSpace(words: string[], x: Float32Array, d: number, theme: Map<string, string>) {
  // Documents: each theme's words split in thirds; a query is a short phrase.
  step('ranking documents for query phrases by energy distance and by cosine');
  const themes = [...new Set(words.map((w) => theme.get(w)!))];
  const docs: { name: string; rows: number[] }[] = [];
  for (const t of themes) {
    const rows = words.map((w, i) => [w, i] as const).filter(([w]) => theme.get(w) === t).map(([, i]) => i);
    for (let part = 0; part < 3; part++) docs.push({ name: `${t}-${part + 1}`, rows: rows.filter((_, k) => k % 3 === part) });
  }
  const offsets = new Int32Array(docs.length + 1);
  docs.forEach((doc, k) => (offsets[k + 1] = offsets[k] + doc.rows.length));
  const dx = new Float32Array(offsets[docs.length] * d);
  docs.forEach((doc, k) => doc.rows.forEach((r, j) => dx.set(x.subarray(r * d, (r + 1) * d), (offsets[k] + j) * d)));
  const vocab = loadVocabulary();
  const queries = [['violin', 'melody'], ['wolf', 'forest', 'hunt'], ['storm', 'coast'], ['goal', 'crowd'], ['protein', 'diet']];
  const unit = (v: Float32Array) => {
    for (let i = 0; i < v.length / d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += v[i * d + j] ** 2;
      for (let j = 0; j < d; j++) v[i * d + j] /= Math.sqrt(s);
    }
    return v;
  };
  const mean = (v: Float32Array, rows: number) => {
    const m = new Float64Array(d);
    for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) m[j] += v[i * d + j] / rows;
    return m;
  };
  const cos = (a: Float64Array, b: Float64Array) => {
    let s = 0, na = 0, nb = 0;
    for (let j = 0; j < d; j++) {
      s += a[j] * b[j];
      na += a[j] ** 2;
      nb += b[j] ** 2;
    }
    return s / Math.sqrt(na * nb);
  };
  const search = [];
  for (const q of queries.map((ws) => ws.filter((w) => vocab.indexOf(w) !== undefined))) {
    const qx = unit(vocab.rows(q));
    const D = await points.distanceMatrix(dx, offsets, { d, query: { x: qx, offsets: Int32Array.from([0, q.length]) } });
    const byEnergy = docs.map((doc, k) => ({ doc: doc.name, score: D.values[k] })).sort((a, b) => a.score - b.score).slice(0, 3);
    const qm = mean(qx, q.length);
    const byCosine = docs
      .map((doc, k) => ({ doc: doc.name, score: cos(qm, mean(dx.subarray(offsets[k] * d, offsets[k + 1] * d), doc.rows.length)) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 3);
    search.push({ query: q.join(' '), byEnergyDistance: byEnergy, byCosine });
    process.stdout.write(`\n    ${q.join(' ').padEnd(20)} energy: ${byEnergy.map((e) => e.doc).join(', ').padEnd(40)} cosine: ${byCosine.map((e) => e.doc).join(', ')}`);
  }

  step('condensing the words in 100 dimensions by mean shift');
  const cond = await points.condense(x, { d, bandwidth: 0.3 });
  const groups = Array.from({ length: cond.k }, (_, k) => words.filter((_, i) => cond.labels[i] === k)).filter((g) => g.length > 1);
  done(`${cond.k} stable nodes, ${groups.length} with more than one word`);
  for (const g of groups.slice(0, 6)) process.stdout.write(`\n    ${g.slice(0, 12).join(', ')}${g.length > 12 ? ', …' : ''}`);

  step('inducing themes from one seed word per theme');
  const seeds = themes.map((t) => words.findIndex((w) => theme.get(w) === t));
  const values = new Float32Array(seeds.length * themes.length);
  seeds.forEach((s, k) => (values[k * themes.length + k] = 1));
  const ind = await points.induce(x, { d, labeled: Int32Array.from(seeds), values, kernel: { kind: 'gaussian', sigma: 0.35 }, knn: 10 });
  let right = 0;
  words.forEach((w, i) => (right += themes[ind.labels[i]] === theme.get(w) ? 1 : 0));
  done(`${right} of ${words.length} words get their own theme (${(100 * right / words.length).toFixed(0)}%), ${ind.iterations} CG steps`);
  return {
    search,
    condensed: groups,
    induced: { seeds: seeds.map((s) => words[s]), accuracy: right / words.length, themes: Object.fromEntries(words.map((w, i) => [w, themes[ind.labels[i]]])) },
  };
}

main().catch((err) => {
  process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
