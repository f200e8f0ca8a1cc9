/**
 * Experiment files: their JSON schema (checked with Ajv; every error names
 * the field as a path such as pipeline[2].kappa), sweep expansion into runs,
 * and "$name" references to sweep variables.
 */
import Ajv, { ErrorObject } from 'ajv';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';

const num = (extra: object = {}) => ({ anyOf: [{ type: 'number', ...extra }, { $ref: '#/$defs/ref' }] });
const int = (extra: object = {}) => ({ anyOf: [{ type: 'integer', ...extra }, { $ref: '#/$defs/ref' }] });
const words = { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 };
const group = { anyOf: [{ type: 'string', minLength: 1 }, words], description: 'a label of the input, or a list of words' };

function step(op: string, props: Record<string, object>, required: string[] = []): object {
  return {
    type: 'object',
    properties: { op: { const: op }, ...props },
    required: ['op', ...required],
    additionalProperties: false,
  };
}

/** The steps a pipeline may hold, with their options. */
export const STEPS: Record<string, object> = {
  field: step('field', { grid: int({ minimum: 16, maximum: 4096 }), kappa: num({ minimum: 0 }), smooth: { type: 'boolean' }, tol: num({ exclusiveMinimum: 0, maximum: 0.1 }) }),
  basins: step('basins', { seek: { enum: ['max', 'min'] } }),
  rank: step('rank', { queries: { type: 'array', items: words, minItems: 1 }, top: int({ minimum: 1, maximum: 100 }) }, ['queries']),
  condense: step('condense', { bandwidth: num({ exclusiveMinimum: 0 }), kernel: { enum: ['gaussian', 'flat'] } }),
  induce: step('induce', { sigma: num({ exclusiveMinimum: 0 }), knn: int({ minimum: 1, maximum: 1000 }) }),
  spectrum: step('spectrum', { a: group, b: group, from: num({ minimum: 0 }), to: num({ minimum: 0 }), count: int({ minimum: 2, maximum: 4096 }), g: num({ minimum: 0 }), c: num({ exclusiveMinimum: 0 }), kappa: num({ minimum: 0 }) }, ['a', 'b']),
  dimension: step('dimension', { of: { enum: ['embeddings', 'positions'] }, kind: { enum: ['correlation', 'box'] } }),
  token: step('token', { word: { type: 'string', minLength: 1 }, contexts: { ...words, maxItems: 16 }, m: int({ minimum: 2, maximum: 16 }), depth: int({ minimum: 1, maximum: 8 }), s: num({ exclusiveMinimum: 0, exclusiveMaximum: 1 }), beta: num() }, ['word', 'contexts']),
  modes: step('modes', { k: int({ minimum: 1, maximum: 32 }), strength: num({ minimum: 0 }), kappa: num({ minimum: 0 }) }),
  resonance: step('resonance', { a: group, b: group, grid: int({ minimum: 16, maximum: 1024 }), from: num({ minimum: 0 }), to: num({ minimum: 0 }), count: int({ minimum: 2, maximum: 1024 }), damping: num({ exclusiveMinimum: 0 }), kappa: num({ minimum: 0 }) }, ['a', 'b']),
  codec: step('codec', { tolerance: num({ exclusiveMinimum: 0, maximum: 1 }), scale: { anyOf: [{ enum: [0.5, 1, 2, 4] }, { $ref: '#/$defs/ref' }] } }),
};

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

function describe(e: ErrorObject): string {
  const at = where(e.instancePath);
  if (e.keyword === 'additionalProperties') return `${at === '(the file)' ? '' : at + '.'}${(e.params as { additionalProperty: string }).additionalProperty}: unknown field`;
  if (e.keyword === 'required') return `${at === '(the file)' ? '' : at + '.'}${(e.params as { missingProperty: string }).missingProperty}: required`;
  if (e.keyword === 'enum') return `${at}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at}: ${e.message}`;
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(SCHEMA);
const stepValidators = Object.fromEntries(Object.entries(STEPS).map(([op, s]) => [op, ajv.compile({ $defs: SCHEMA.$defs, ...s })]));

/** Reads and checks an experiment file. */
export function loadExperiment(file: string): Experiment {
  let text: string;
  try {
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
  if (!validate(json)) {
    // The most specific errors: drop the generic ones of anyOf/oneOf/if
    // branches when a precise one names the same or a deeper field.
    const errs = (validate.errors ?? []).filter((e) => !['anyOf', 'oneOf', 'if'].includes(e.keyword));
    const input = errs.filter((e) => e.instancePath.startsWith('/input'));
    let shown = errs;
    if (input.length) {
      // oneOf over input kinds: report against the kind the file names.
      const kind = (json as { input?: { kind?: unknown } }).input?.kind;
      const kinds = ['vocabulary', 'npy', 'f32', 'json'];
      shown = errs.filter((e) => !e.instancePath.startsWith('/input') || !e.schemaPath.includes('/oneOf/') || e.schemaPath.includes(`/oneOf/${kinds.indexOf(kind as string)}/`));
      if (!kinds.includes(kind as string)) shown = [...shown.filter((e) => !e.instancePath.startsWith('/input')), { instancePath: '/input/kind', message: `must be one of ${kinds.join(', ')}`, keyword: 'x', params: {}, schemaPath: '' } as ErrorObject];
    }
    // Numbers given where a sweep reference could also stand: keep the number's message.
    const seen = new Set<string>();
    const problems = shown
      .filter((e) => !(e.keyword === 'pattern' && e.schemaPath.includes('$defs/ref') && shown.some((o) => o !== e && o.instancePath === e.instancePath)))
      .filter((e) => !(e.keyword === 'type' && e.schemaPath.includes('$defs/ref') && shown.some((o) => o !== e && o.instancePath === e.instancePath)))
      .map(describe)
      .filter((p) => (seen.has(p) ? false : (seen.add(p), true)));
    throw new ExperimentError(file, problems.length ? problems : ['does not match the experiment schema']);
  }
  const exp = json as unknown as Experiment;
  // Every "$name" must name a sweep variable.
  const problems: string[] = [];
  exp.pipeline.forEach((s, i) => {
    for (const [k, v] of Object.entries(s))
      if (typeof v === 'string' && v.startsWith('$') && !(exp.sweep && v.slice(1) in exp.sweep)) problems.push(`pipeline[${i}].${k}: ${v} is not a sweep variable`);
  });
  // Each value a sweep gives a step must suit that step.
  exp.pipeline.forEach((s, i) => {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v !== 'string' || !v.startsWith('$') || !exp.sweep) continue;
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
  /** Stable across invocations: a hash of the run's parameters. */
  id: string;
  index: number;
  params: Record<string, number | string | boolean>;
  pipeline: Step[];
}

/** The cartesian product of the sweep, each run's pipeline with the references filled in. */
export function expand(exp: Experiment): Run[] {
  const vars = Object.entries(exp.sweep ?? {});
  const total = vars.reduce((a, [, v]) => a * v.length, 1);
  if (total > 100000) throw new ExperimentError(exp.name, [`sweep: ${total} runs; at most 100000`]);
  const runs: Run[] = [];
  for (let i = 0; i < total; i++) {
    const params: Record<string, number | string | boolean> = {};
    let k = i;
    for (let v = vars.length - 1; v >= 0; v--) {
      const [name, values] = vars[v];
      params[name] = values[k % values.length];
      k = Math.floor(k / values.length);
    }
    const pipeline = exp.pipeline.map((s) =>
      Object.fromEntries(Object.entries(s).map(([key, v]) => [key, typeof v === 'string' && v.startsWith('$') ? params[v.slice(1)] : v])),
    ) as Step[];
    const id = crypto.createHash('sha256').update(JSON.stringify({ params, pipeline })).digest('hex').slice(0, 12);
    runs.push({ id, index: i, params, pipeline });
  }
  return runs;
}
