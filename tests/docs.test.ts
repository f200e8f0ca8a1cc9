// The API documentation builds from the doc comments (TypeDoc), with
// warnings as errors: every exported type is reachable and every link valid.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

test('typedoc builds the API reference without warnings', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'semfield-docs-'));
  try {
    const bin = path.join(__dirname, '..', 'node_modules', 'typedoc', 'bin', 'typedoc');
    const r = spawnSync(process.execPath, [bin, '--out', out], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
    expect(r.stdout + r.stderr).not.toMatch(/\[warning\]|\[error\]/);
    expect(r.status).toBe(0);
    const fractalDoc = fs.readdirSync(path.join(out, 'modules')).find((f) => f.startsWith('fractal'));
    expect(fractalDoc).toBeDefined();
    const html = fs.readFileSync(path.join(out, 'modules', fractalDoc!), 'utf8');
    for (const name of ['chaosGame', 'boxDimension', 'encode', 'decode', 'unfoldToken']) expect(html).toContain(name);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}, 60000);
