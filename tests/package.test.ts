/**
 * The package as a user installs it: one Node range that the engines field,
 * the README and every installed dependency agree on.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as semver from 'semver';

const root = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[] }> };

describe('one Node version range', () => {
  const range = pkg.engines.node;
  // The oldest release of each major the range admits.
  const floors = [...new Set(semver.validRange(range)!.split('||').map((r) => semver.minVersion(r.trim())!.version))];

  test('the README states the engines range', () => {
    expect(floors).toEqual(['20.17.0', '22.9.0']);
    expect(fs.readFileSync(path.join(root, 'README.md'), 'utf8')).toContain(`Node.js \`${range}\``);
  });

  test('every dependency, development ones included, runs on the oldest Node of each major the range admits', () => {
    const refusing: string[] = [];
    for (const [name, p] of Object.entries(lock.packages)) {
      const e = !Array.isArray(p.engines) ? p.engines?.node : undefined;
      if (!name || !e) continue;
      for (const v of floors) if (!semver.satisfies(v, e)) refusing.push(`${name} (${e}) refuses ${v}`);
    }
    expect(refusing).toEqual([]);
  });
});
