/**
 * Experiment files: their JSON schema (checked with Ajv; every error names
 * the field as a path such as pipeline[2].kappa, and an unknown field names
 * the closest known one), sweep expansion into runs, and "$name" references
 * to sweep variables.
 *
 * Every step option is declared once, in STEP_OPTIONS, with its schema, its
 * default and one line of documentation: the schema, the steps' defaults and
 * the README's table of steps (`semfield steps --markdown`) all come from it,
 * so they cannot drift apart.
 *
 * A run's id is a content hash of what determines its result: the package
 * version, the input's bytes (the rows, words and labels it decodes to),
 * the sweep's values and the run's step options after expansion. Resuming
 * skips exactly the runs whose ids are recorded; changing the input, an
 * option or the version makes new runs.
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ref = { $ref: '#/$defs/ref' };
const num = (extra: object = {}) => ({ anyOf: [{ type: 'number', ...extra }, ref] });
const int = (extra: object = {}) => ({ anyOf: [{ type: 'integer', ...extra }, ref] });
const bool = { anyOf: [{ type: 'boolean' }, ref] };
const words = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 };
const group = { anyOf: [{ type: 'string', minLength: 1 }, words] };
const range = { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 2, maxItems: 2 };

/** One option of a step: its schema, its default (a value, or words for a default taken from the data) and what it does. */
export interface StepOption {
  schema: object;
  /** The default value, when it is a fixed one. */
  default?: unknown;
  /** The default in words, when the step derives it from the data. */
  defaultText?: string;
  doc: string;
  required?: boolean;
}

export interface StepSpec {
  doc: string;
  options: Record<string, StepOption>;
}

const convergence = (what: string): Record<string, StepOption> => ({
  allowNotConverged: { schema: bool, default: false, doc: `keep the result of a ${what} that did not reach its tolerance (the record says converged: false) instead of failing the run` },
});

/** The steps a pipeline may hold, with their options. */
export const STEP_OPTIONS: Record<string, StepSpec> = {
  field: {
    doc: 'PCA of the rows to the plane, cloud-in-cell deposit, screened Poisson solve (twice when smooth); field.png',
    options: {
      grid: { schema: int({ minimum: 16, maximum: 4096 }), default: 256, doc: 'cells per side (a power of two, or a multiple of 64)' },
      kappa: { schema: num({ minimum: 0 }), default: 24, doc: 'screening: the field decays over about 1/kappa of the plane' },
      smooth: { schema: bool, default: true, doc: 'solve twice (the potential of the potential), for smoother basins' },
      tol: { schema: num({ exclusiveMinimum: 0, maximum: 0.1 }), default: 1e-7, doc: 'relative residual each solve reaches' },
      maxCycles: { schema: int({ minimum: 1, maximum: 10000 }), default: 50, doc: 'multigrid cycles a solve may take' },
      ...convergence('solve'),
    },
  },
  basins: {
    doc: 'steepest-ascent (or descent) basins of the field, with the concepts each holds and its main label; basins.png',
    options: { seek: { schema: { enum: ['max', 'min'] }, default: 'max', doc: 'basins of the peaks (max) or of the troughs (min)' } },
  },
  rank: {
    doc: "documents (each label's rows in three parts) ranked for query phrases by energy distance and by cosine of means",
    options: {
      queries: { schema: { type: 'array', items: words, minItems: 1 }, required: true, doc: 'query phrases, each a list of words' },
      top: { schema: int({ minimum: 1, maximum: 100 }), default: 3, doc: 'documents listed per query' },
    },
  },
  condense: {
    doc: 'mean shift in the embedding space itself: the stable nodes and the groups that flow to them',
    options: {
      bandwidth: { schema: num({ exclusiveMinimum: 0 }), defaultText: '0.25 x the median distance between rows', doc: "the kernel's width: the gaussian's sigma, or the flat kernel's radius" },
      kernel: { schema: { enum: ['gaussian', 'flat'] }, default: 'gaussian', doc: 'mean-shift kernel' },
    },
  },
  induce: {
    doc: 'labels induced from one seed row per label (the first of each) by the harmonic function on the kernel graph',
    options: {
      sigma: { schema: num({ exclusiveMinimum: 0 }), defaultText: '0.3 x the median distance between rows', doc: 'gaussian kernel width' },
      knn: { schema: int({ minimum: 1, maximum: 1000 }), defaultText: 'min(10, rows - 1)', doc: 'neighbours per row in the graph (at most rows - 1)' },
      tol: { schema: num({ exclusiveMinimum: 0, maximum: 0.1 }), default: 1e-8, doc: 'relative residual of the conjugate-gradient solve' },
      maxIter: { schema: int({ minimum: 1, maximum: 1000000 }), default: 1000, doc: 'iterations the solve may take' },
      ...convergence('solve'),
    },
  },
  flow: {
    doc: 'the rows of group a flow down the gradient of their discrepancy to group b in the embedding space (the MMD gradient flow); the trajectories on the plane of both groups (flow.png) and the discrepancy per step (flow-discrepancy.png)',
    options: {
      a: { schema: group, required: true, doc: 'the particles: a label of the input, or a list of words' },
      b: { schema: group, required: true, doc: 'the target: a label of the input, or a list of words' },
      metric: { schema: { enum: ['mmd', 'energy'] }, default: 'mmd', doc: 'squared MMD with a gaussian kernel, or the energy distance' },
      sigma: { schema: num({ exclusiveMinimum: 0 }), defaultText: 'the median distance between rows', doc: "the gaussian kernel's width (mmd)" },
      step: { schema: num({ exclusiveMinimum: 0 }), defaultText: 'rows of a / 2 x sigma^2 (mmd), or x 0.02 x the median distance (energy)', doc: 'step size tau of x_i <- x_i - tau dD/dx_i' },
      steps: { schema: int({ minimum: 1, maximum: 100000 }), default: 200, doc: 'steps' },
      noise: { schema: num({ minimum: 0 }), default: 0, doc: 'noise injection level (Arbel et al.), halving every quarter of the steps' },
    },
  },
  spectrum: {
    doc: 'the resonance spectrum R_AB(w) between two groups, in the embedding space; spectrum.png',
    options: {
      a: { schema: group, required: true, doc: 'a label of the input, or a list of words' },
      b: { schema: group, required: true, doc: 'a label of the input, or a list of words' },
      from: { schema: num({ minimum: 0 }), default: 0, doc: 'lowest frequency' },
      to: { schema: num({ minimum: 0 }), default: 20, doc: 'highest frequency' },
      count: { schema: int({ minimum: 2, maximum: 4096 }), default: 200, doc: 'frequencies, evenly spaced' },
      damping: { schema: num({ minimum: 0 }), default: 0.5, doc: 'damping g' },
      c: { schema: num({ exclusiveMinimum: 0 }), default: 1, doc: 'wave speed' },
      kappa: { schema: num({ minimum: 0 }), default: 0, doc: 'screening' },
    },
  },
  dimension: {
    doc: 'fractal dimension of the embeddings or of their plane positions (correlation: pair counts; box: box counting); dimension.png',
    options: {
      of: { schema: { enum: ['embeddings', 'positions'] }, default: 'embeddings', doc: "the rows themselves, or their positions on the field's plane (needs a field step)" },
      kind: { schema: { enum: ['correlation', 'box'] }, default: 'correlation', doc: 'correlation dimension, or box counting (at most 16 dimensions)' },
      scales: { schema: range, defaultText: 'chosen from the data: the radii (correlation) or box sizes (box) where the counts are neither too few nor saturated', doc: 'the scale range [smallest, largest] to fit over' },
      minPairs: { schema: int({ minimum: 1 }), defaultText: 'max(5, pairs / 1000), at most 1000', doc: 'correlation: pairs a radius needs to be fitted' },
      bins: { schema: int({ minimum: 2, maximum: 128 }), default: 64, doc: 'correlation: radii measured, log-spaced' },
    },
  },
  token: {
    doc: 'a word of the bundled vocabulary as a fractal token of its sub-meanings, unfolded under each context word',
    options: {
      word: { schema: { type: 'string', minLength: 1 }, required: true, doc: 'the word' },
      contexts: { schema: { ...words, maxItems: 16 }, required: true, doc: 'context words' },
      m: { schema: int({ minimum: 2, maximum: 16 }), default: 3, doc: 'sub-meanings (maps of the token)' },
      depth: { schema: int({ minimum: 1, maximum: 8 }), default: 4, doc: 'levels unfolded' },
      s: { schema: num({ exclusiveMinimum: 0, exclusiveMaximum: 1 }), default: 0.5, doc: 'contraction of each map' },
      beta: { schema: num(), default: 12, doc: 'sharpness of the context weights' },
    },
  },
  modes: {
    doc: "the lowest standing waves of the field's wells (-lap + kappa^2 - strength x field / max field); modes.png",
    options: {
      k: { schema: int({ minimum: 1, maximum: 32 }), default: 4, doc: 'modes' },
      strength: { schema: num({ minimum: 0 }), default: 80 * Math.PI * Math.PI, defaultText: "80 pi^2 = 789.57, 40 x the box's ground state 2 pi^2", doc: 'depth of the wells' },
      kappa: { schema: num({ minimum: 0 }), default: 0, doc: 'screening' },
      tol: { schema: num({ exclusiveMinimum: 0, maximum: 0.1 }), default: 1e-6, doc: 'eigenpair residual' },
      maxIter: { schema: int({ minimum: 1, maximum: 1000000 }), default: 1000, doc: 'LOBPCG iterations' },
      ...convergence('eigensolve'),
    },
  },
  resonance: {
    doc: "the mesh resonance R_AB(w) between two groups, deposited on a grid of their own over the field's plane; resonance.png",
    options: {
      a: { schema: group, required: true, doc: 'a label of the input, or a list of words' },
      b: { schema: group, required: true, doc: 'a label of the input, or a list of words' },
      grid: { schema: int({ minimum: 16, maximum: 1024 }), default: 64, doc: 'cells per side' },
      from: { schema: num({ minimum: 0 }), default: 0, doc: 'lowest frequency' },
      to: { schema: num({ minimum: 0 }), default: 30, doc: 'highest frequency' },
      count: { schema: int({ minimum: 2, maximum: 1024 }), default: 31, doc: 'frequencies, evenly spaced' },
      damping: { schema: num({ exclusiveMinimum: 0 }), default: 4, doc: 'damping g' },
      kappa: { schema: num({ minimum: 0 }), default: 0, doc: 'screening' },
      tol: { schema: num({ exclusiveMinimum: 0, maximum: 0.1 }), default: 1e-6, doc: 'relative residual per frequency' },
      maxIter: { schema: int({ minimum: 1, maximum: 1000000 }), default: 2000, doc: 'BiCGSTAB iterations per frequency' },
      ...convergence('frequency'),
    },
  },
  codec: {
    doc: 'the field through the fractal codec, decoded at a scale; field-x<scale>.png',
    options: {
      tolerance: { schema: num({ exclusiveMinimum: 0, maximum: 1 }), default: 0.002, doc: "RMS error a block may keep, as a fraction of the field's range" },
      scale: { schema: { anyOf: [{ enum: [0.5, 1, 2, 4] }, ref] }, default: 2, doc: 'decoded size over the field size' },
    },
  },
};

/** A step option's value, or its fixed default. */
export function opt<T>(o: Record<string, unknown>, op: string, key: string): T {
  const spec = STEP_OPTIONS[op]?.options[key];
  if (!spec) throw new Error(`internal: step ${op} has no option ${key}`);
  return (o[key] === undefined ? spec.default : o[key]) as T;
}

function step(op: string): object {
  const { options } = STEP_OPTIONS[op];
  return {
    type: 'object',
    properties: { op: { const: op }, ...Object.fromEntries(Object.entries(options).map(([k, v]) => [k, v.schema])) },
    required: ['op', ...Object.entries(options).filter(([, v]) => v.required).map(([k]) => k)],
    additionalProperties: false,
  };
}

export const STEPS: Record<string, object> = Object.fromEntries(Object.keys(STEP_OPTIONS).map((op) => [op, step(op)]));

const INPUT_KINDS = ['vocabulary', 'npy', 'f32', 'json'];

export const SCHEMA = {
  $id: 'https://semfield/experiment.json',
  type: 'object',
  $defs: { ref: { type: 'string', pattern: '^\\$[A-Za-z_][A-Za-z0-9_]*$' } },
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string' },
    backend: { enum: ['auto', 'cpu', 'cuda'] },
    input: {
      type: 'object',
      oneOf: [
        {
          properties: {
            kind: { const: 'vocabulary' },
            words: words,
            themes: { type: 'object', additionalProperties: words, minProperties: 1 },
            first: { type: 'integer', minimum: 2, maximum: 20000 },
          },
          required: ['kind'],
          additionalProperties: false,
        },
        {
          properties: { kind: { const: 'npy' }, path: { type: 'string', minLength: 1 }, labels: { type: 'string', minLength: 1 }, words: { type: 'string', minLength: 1 } },
          required: ['kind', 'path'],
          additionalProperties: false,
        },
        {
          properties: { kind: { const: 'f32' }, path: { type: 'string', minLength: 1 }, dim: { type: 'integer', minimum: 1, maximum: 65536 }, vocabulary: { type: 'string', minLength: 1 }, labels: { type: 'string', minLength: 1 } },
          required: ['kind', 'path', 'dim', 'vocabulary'],
          additionalProperties: false,
        },
        {
          properties: { kind: { const: 'json' }, path: { type: 'string', minLength: 1 } },
          required: ['kind', 'path'],
          additionalProperties: false,
        },
      ],
    },
    sweep: {
      type: 'object',
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      additionalProperties: { type: 'array', minItems: 1, maxItems: 1000, items: { type: ['number', 'string', 'boolean'] } },
    },
    pipeline: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['op'],
        properties: { op: { enum: Object.keys(STEPS) } },
        allOf: Object.entries(STEPS).map(([op, s]) => ({ if: { properties: { op: { const: op } } }, then: s })),
      },
    },
  },
  required: ['name', 'input', 'pipeline'],
  additionalProperties: false,
};

export type Step = { op: string } & Record<string, unknown>;
export type Input =
  | { kind: 'vocabulary'; words?: string[]; themes?: Record<string, string[]>; first?: number }
  | { kind: 'npy'; path: string; labels?: string; words?: string }
  | { kind: 'f32'; path: string; dim: number; vocabulary: string; labels?: string }
  | { kind: 'json'; path: string };

export interface Experiment {
  name: string;
  description?: string;
  backend?: 'auto' | 'cpu' | 'cuda';
  input: Input;
  sweep?: Record<string, (number | string | boolean)[]>;
  pipeline: Step[];
}

/** An experiment file that is not valid: every problem, each naming its field. */
export class ExperimentError extends Error {
  constructor(readonly file: string, readonly problems: string[]) {
    super(`${file}: not a valid experiment\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

function where(path: string): string {
  // /pipeline/2/kappa -> pipeline[2].kappa
  return path
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p.replace(/~1/g, '/').replace(/~0/g, '~')}`))
    .join('')
    .replace(/^\./, '') || '(the file)';
}

/** Levenshtein distance (for "did you mean"). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

/** The known name closest to `name`, when it is close enough to be a slip. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const k of known) {
    const d = distance(name, k);
    if (d < bestD) (best = k), (bestD = d);
  }
  return best !== undefined && bestD <= Math.max(1, Math.min(3, Math.floor(best.length / 3))) ? best : undefined;
}

/** The fields an object at this place of the file may hold. */
function knownFields(json: unknown, at: string): string[] {
  if (at === '') return Object.keys(SCHEMA.properties);
  const m = /^\/pipeline\/(\d+)$/.exec(at);
  if (m) {
    const op = (json as { pipeline: { op?: unknown }[] }).pipeline[+m[1]]?.op;
    return typeof op === 'string' && STEP_OPTIONS[op] ? ['op', ...Object.keys(STEP_OPTIONS[op].options)] : ['op'];
  }
  if (at === '/input') {
    const kind = (json as { input: { kind?: unknown } }).input.kind;
    const i = INPUT_KINDS.indexOf(kind as string);
    return i >= 0 ? Object.keys(SCHEMA.properties.input.oneOf[i].properties) : [];
  }
  return [];
}

function describe(e: ErrorObject, json: unknown): string {
  const at = where(e.instancePath);
  if (e.keyword === 'additionalProperties') {
    const field = (e.params as { additionalProperty: string }).additionalProperty;
    const near = closest(field, knownFields(json, e.instancePath));
    return `${at === '(the file)' ? '' : at + '.'}${field}: unknown field${near ? ` (did you mean '${near}'?)` : ''}`;
  }
  if (e.keyword === 'required') return `${at === '(the file)' ? '' : at + '.'}${(e.params as { missingProperty: string }).missingProperty}: required`;
  if (e.keyword === 'enum') {
    const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
    const value = e.instancePath.split('/').slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown>)?.[k], json);
    const near = typeof value === 'string' ? closest(value, allowed.filter((v): v is string => typeof v === 'string')) : undefined;
    return `${at}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}${near ? ` (did you mean '${near}'?)` : ''}`;
  }
  return `${at}: ${e.message}`;
}

// Compiled on first use: worker processes, which only run steps, never pay for it.
let compiled: { validate: ValidateFunction; steps: Record<string, ValidateFunction> } | undefined;
function validators() {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    compiled = { validate: ajv.compile(SCHEMA), steps: Object.fromEntries(Object.entries(STEPS).map(([op, s]) => [op, ajv.compile({ $defs: SCHEMA.$defs, ...s })])) };
  }
  return compiled;
}

/** Largest experiment file read (a file, not a stream of any length). */
const MAX_FILE_BYTES = 16 << 20;

/** Reads and checks an experiment file. */
export function loadExperiment(file: string): Experiment {
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new Error('not a regular file');
    if (st.size > MAX_FILE_BYTES) throw new Error(`${st.size} bytes; an experiment file may hold at most ${MAX_FILE_BYTES} bytes`);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new ExperimentError(file, [`cannot be read: ${(e as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ExperimentError(file, [`is not JSON: ${(e as Error).message}`]);
  }
  return checkExperiment(json, file);
}

export function checkExperiment(json: unknown, file = 'experiment'): Experiment {
  const { validate, steps: stepValidators } = validators();
  if (!validate(json)) {
    // The most specific errors: drop the generic ones of anyOf/oneOf/if
    // branches when a precise one names the same or a deeper field.
    const errs = (validate.errors ?? []).filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword));
    const input = errs.filter((e) => e.instancePath.startsWith('/input'));
    let shown = errs;
    if (input.length) {
      // oneOf over input kinds: report against the kind the file names.
      const kind = (json as { input?: { kind?: unknown } }).input?.kind;
      shown = errs.filter((e) => !e.instancePath.startsWith('/input') || !e.schemaPath.includes('/oneOf/') || e.schemaPath.includes(`/oneOf/${INPUT_KINDS.indexOf(kind as string)}/`));
      if (!INPUT_KINDS.includes(kind as string)) {
        const near = typeof kind === 'string' ? closest(kind, INPUT_KINDS) : undefined;
        shown = [...shown.filter((e) => !e.instancePath.startsWith('/input')), { instancePath: '/input/kind', message: `must be one of ${INPUT_KINDS.join(', ')}${near ? ` (did you mean '${near}'?)` : ''}`, keyword: 'x', params: {}, schemaPath: '' } as ErrorObject];
      }
    }
    // Numbers given where a sweep reference could also stand: keep the number's message.
    const seen = new Set<string>();
    const problems = shown
      .filter((e) => !(e.keyword === 'pattern' && e.schemaPath.includes('$defs/ref') && shown.some((o) => o !== e && o.instancePath === e.instancePath)))
      .filter((e) => !(e.keyword === 'type' && e.schemaPath.includes('$defs/ref') && shown.some((o) => o !== e && o.instancePath === e.instancePath)))
      .map((e) => describe(e, json))
      .filter((p) => (seen.has(p) ? false : (seen.add(p), true)));
    throw new ExperimentError(file, problems.length ? problems : ['does not match the experiment schema']);
  }
  const exp = json as unknown as Experiment;
  // Every "$name" must name a sweep variable.
  const problems: string[] = [];
  exp.pipeline.forEach((s, i) => {
    for (const [k, v] of Object.entries(s))
      if (typeof v === 'string' && v.startsWith('$') && !(exp.sweep && v.slice(1) in exp.sweep)) {
        const near = exp.sweep ? closest(v.slice(1), Object.keys(exp.sweep)) : undefined;
        problems.push(`pipeline[${i}].${k}: ${v} is not a sweep variable${near ? ` (did you mean '$${near}'?)` : ''}`);
      }
  });
  // Each value a sweep gives a step must suit that step.
  exp.pipeline.forEach((s, i) => {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v !== 'string' || !v.startsWith('$') || !exp.sweep || !(v.slice(1) in exp.sweep)) continue;
      exp.sweep[v.slice(1)].forEach((value, j) => {
        const check = stepValidators[s.op];
        if (!check({ ...s, [k]: value }))
          problems.push(`sweep.${v.slice(1)}[${j}]: ${JSON.stringify(value)} does not suit pipeline[${i}].${k} (${(check.errors ?? []).filter((e) => e.instancePath === `/${k}` && !e.schemaPath.includes('$defs')).map((e) => e.message).join('; ') || 'invalid'})`);
      });
    }
  });
  if (problems.length) throw new ExperimentError(file, problems);
  return exp;
}

export interface Run {
  /** A content hash of what determines the run (see the file's opening comment). */
  id: string;
  index: number;
  /** The sweep's values, in the order the file names the variables. */
  params: Record<string, number | string | boolean>;
  pipeline: Step[];
}

/** The package's version (part of every run's id). */
export const VERSION: string = (() => {
  // dist/cli (compiled) or cli/ (tests): the nearest package.json above.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).version as string;
    if (path.dirname(dir) === dir) return '0.0.0';
  }
})();

/** Most runs one experiment may expand to. */
export const MAX_RUNS = 100000;

/**
 * The cartesian product of the sweep (the last variable varies fastest),
 * each run's pipeline with the references filled in; `input` is the hash of
 * the input's content.
 */
export function expand(exp: Experiment, input: string): Run[] {
  const vars = Object.entries(exp.sweep ?? {});
  const total = vars.reduce((a, [, v]) => a * v.length, 1);
  if (total > MAX_RUNS) throw new ExperimentError(exp.name, [`sweep: ${total} runs; at most ${MAX_RUNS}`]);
  const runs: Run[] = [];
  for (let i = 0; i < total; i++) {
    const digits: number[] = new Array(vars.length);
    let k = i;
    for (let v = vars.length - 1; v >= 0; v--) {
      digits[v] = k % vars[v][1].length;
      k = Math.floor(k / vars[v][1].length);
    }
    const params = Object.fromEntries(vars.map(([name, values], v) => [name, values[digits[v]]]));
    const pipeline = exp.pipeline.map((s) =>
      Object.fromEntries(Object.entries(s).map(([key, v]) => [key, typeof v === 'string' && v.startsWith('$') ? params[v.slice(1)] : v])),
    ) as Step[];
    const id = crypto.createHash('sha256').update(JSON.stringify({ version: VERSION, input, params, pipeline })).digest('hex').slice(0, 16);
    runs.push({ id, index: i, params, pipeline });
  }
  return runs;
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

/** The steps and their options as Markdown (the README's table is this, verbatim). */
export function stepsMarkdown(): string {
  const out: string[] = [];
  for (const [op, spec] of Object.entries(STEP_OPTIONS)) {
    out.push(`#### \`${op}\``, '', `${spec.doc[0].toUpperCase()}${spec.doc.slice(1)}.`, '');
    out.push('| option | default | meaning |', '|---|---|---|');
    for (const [k, o] of Object.entries(spec.options)) {
      const def = o.required ? '(required)' : o.defaultText ?? JSON.stringify(o.default);
      out.push(`| \`${k}\` | ${cell(def)} | ${cell(o.doc)} |`);
    }
    out.push('');
  }
  return out.join('\n');
}
