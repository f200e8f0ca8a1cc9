/**
 * `semfield merge --out DIR SHARD_DIR...`: the folders of a sharded batch
 * (`--shard i/N`, one per container of a Kubernetes indexed job or an AWS
 * Batch array job) combined into one batch folder: every record once (the
 * first found of each run id; a done record wins over a failed one), its
 * pictures copied, one report. The shards must hold the same experiment.
 */
import * as path from 'node:path';
import { Experiment } from './experiment';
import type { RunRecord } from './execute';
import { writeReport } from './report';
import { OutputFolder, UsageError } from './store';

export interface MergeSummary {
  records: number;
  duplicates: number;
  missing: number[];
  report: string;
}

export function merge(out: string, shards: string[], say: (l: string) => void): MergeSummary {
  if (!shards.length) throw new UsageError('merge needs the shard folders to combine');
  const target = OutputFolder.open(out);
  try {
    let exp: Experiment | undefined, expText = '';
    const chosen = new Map<string, { rec: RunRecord; from: OutputFolder }>();
    let duplicates = 0;
    const opened: OutputFolder[] = [];
    try {
      for (const dir of shards) {
        if (path.resolve(dir) === path.resolve(out)) throw new UsageError(`merge: ${dir} is also the --out folder`);
        const f = OutputFolder.open(dir);
        opened.push(f);
        const text = f.readFile('experiment.json')?.toString('utf8');
        if (text === undefined) throw new UsageError(`merge: ${dir} holds no experiment.json (not a semfield output folder)`);
        if (exp === undefined) (exp = JSON.parse(text) as Experiment), (expText = text);
        else if (text !== expText) throw new UsageError(`merge: ${dir} holds another experiment than ${shards[0]}`);
        const { records, problems } = f.readRecords();
        for (const p of problems) say(`warning: ${dir}: ${p}`);
        for (const rec of records) {
          const had = chosen.get(rec.id);
          if (had) duplicates++;
          if (!had || (had.rec.status === 'failed' && rec.status === 'done')) chosen.set(rec.id, { rec, from: f });
        }
      }
      const { records: already } = target.readRecords();
      const have = new Set(already.map((r) => r.id));
      const merged = [...already];
      for (const { rec, from } of [...chosen.values()].sort((a, b) => a.rec.index - b.rec.index)) {
        if (have.has(rec.id)) continue;
        // Pictures and their charts' specifications.
        for (const p of new Set([...rec.pictures, ...(rec.figures ?? []).map((f) => f.spec)])) {
          const data = from.readFile(p);
          if (data) target.writeFile(p, data);
          else say(`warning: ${from.dir}: ${p} of run ${rec.id} is missing`);
        }
        target.append(rec);
        merged.push(rec);
      }
      target.writeFile('experiment.json', expText);
      const total = Object.values(exp!.sweep ?? {}).reduce((a, v) => a * v.length, 1);
      const indexes = new Set(merged.map((r) => r.index));
      const missing = Array.from({ length: total }, (_, i) => i).filter((i) => !indexes.has(i));
      merged.sort((a, b) => a.index - b.index);
      const report = writeReport(target, exp!.name, exp!.description, merged, total);
      say(`${merged.length} of ${total} runs in ${out} from ${shards.length} folder(s)${duplicates ? `, ${duplicates} repeated record(s) kept once` : ''}${missing.length ? `; missing runs: ${missing.slice(0, 20).map((i) => i + 1).join(', ')}${missing.length > 20 ? ', ...' : ''}` : ''}; ${report}`);
      return { records: merged.length, duplicates, missing, report };
    } finally {
      for (const f of opened) f.close();
    }
  } finally {
    target.close();
  }
}
