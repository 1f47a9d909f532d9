// The package as npm publishes it: `npm pack`, install the tarball into a
// scratch project (offline: it has no dependencies), and `tsc --noEmit
// --strict` over an example that imports `multinode`; a file with type
// errors must fail; the packed JavaScript must agree with its JSDoc types
// (checkJs) and export exactly what index.d.ts declares.
//
// TypeScript comes from MN_TSC (a tsc executable) or from npm, installed
// once into MN_TS_DIR (default /tmp/mn-ts) with the npm cache when missing:
// typescript@5 and @types/node@20.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import * as mn from '../src/index.js';
import { JS_DIR } from './daemon.js';

const TS_DIR = process.env.MN_TS_DIR || '/tmp/mn-ts';

/**
 * @param {string} cmd
 * @param {string[]} args
 * @param {import('node:child_process').SpawnSyncOptions} [opts]
 */
function run(cmd, args, opts = {}) {
  const p = spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, ...opts });
  return { status: p.status, out: `${p.stdout ?? ''}${p.stderr ?? ''}${p.error ? String(p.error) : ''}` };
}

/** The tsc to use (installing it when missing) and the folder of @types/node. */
function typescript() {
  if (process.env.MN_TSC) return { tsc: process.env.MN_TSC, typeRoots: join(TS_DIR, 'node_modules', '@types') };
  const tsc = join(TS_DIR, 'node_modules', '.bin', 'tsc');
  const nodeTypes = join(TS_DIR, 'node_modules', '@types', 'node', 'package.json');
  if (!existsSync(tsc) || !existsSync(nodeTypes)) {
    const p = run('npm', ['install', '--prefix', TS_DIR, '--no-audit', '--no-fund', 'typescript@5', '@types/node@20']);
    assert.equal(p.status, 0, `cannot install TypeScript into ${TS_DIR} (set MN_TSC to a tsc):\n${p.out}`);
  }
  return { tsc, typeRoots: join(TS_DIR, 'node_modules', '@types') };
}

const scratch = mkdtempSync('/tmp/mn-js-types.');
/** @type {{ tsc: string, typeRoots: string }} */
let ts;

before(() => {
  ts = typescript();
  const pack = run('npm', ['pack', '--json', '--pack-destination', scratch], { cwd: JS_DIR });
  assert.equal(pack.status, 0, pack.out);
  writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
  const tarball = readdirSync(scratch).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, pack.out);
  const install = run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', `./${tarball}`], { cwd: scratch });
  assert.equal(install.status, 0, install.out);
  for (const f of ['example.ts', 'wrong.ts']) copyFileSync(join(JS_DIR, 'test', 'types', f), join(scratch, f));
  writeFileSync(join(scratch, 'tsconfig.json'), JSON.stringify({
    compilerOptions: {
      strict: true,
      noEmit: true,
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      lib: ['es2022', 'dom'],
      types: [],
    },
    files: ['example.ts'],
  }));
  writeFileSync(join(scratch, 'tsconfig.wrong.json'), JSON.stringify({ extends: './tsconfig.json', files: ['wrong.ts'] }));
});

after(() => rmSync(scratch, { recursive: true, force: true }));

test('the packed package holds the sources, the types and the README, not the tests', () => {
  const pkgDir = join(scratch, 'node_modules', 'multinode');
  const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  assert.equal(pkg.type, 'module');
  assert.equal(pkg.exports['.'].types, './src/index.d.ts');
  assert.ok(existsSync(join(pkgDir, 'src', 'index.d.ts')));
  assert.ok(existsSync(join(pkgDir, 'src', 'index.js')));
  assert.ok(existsSync(join(pkgDir, 'README.md')));
  assert.ok(!existsSync(join(pkgDir, 'test')));
});

test('tsc --noEmit --strict: an example importing multinode compiles', () => {
  const p = run(ts.tsc, ['-p', 'tsconfig.json', '--noEmit', '--strict'], { cwd: scratch });
  assert.equal(p.status, 0, p.out);
});

test('tsc rejects wrong uses (the types are not any)', () => {
  const p = run(ts.tsc, ['-p', 'tsconfig.wrong.json', '--noEmit', '--strict'], { cwd: scratch });
  assert.notEqual(p.status, 0, p.out);
  assert.match(p.out, /wrong\.ts\(6,\d+\): error TS2322/);
  assert.match(p.out, /wrong\.ts\(7,\d+\): error TS2322/);
  assert.match(p.out, /wrong\.ts\(8,\d+\): error TS2(353|345|561)/);
});

test('tsc --checkJs --strict: the packed JavaScript agrees with its JSDoc types', () => {
  const src = join(scratch, 'node_modules', 'multinode', 'src');
  const files = readdirSync(src).filter((f) => f.endsWith('.js')).map((f) => join(src, f));
  const p = run(ts.tsc, ['--noEmit', '--strict', '--allowJs', '--checkJs', '--target', 'es2022',
    '--module', 'nodenext', '--moduleResolution', 'nodenext', '--typeRoots', ts.typeRoots, '--types', 'node', ...files],
  { cwd: scratch });
  assert.equal(p.status, 0, p.out);
});

test('index.d.ts declares exactly the values index.js exports', () => {
  const dts = readFileSync(join(JS_DIR, 'src', 'index.d.ts'), 'utf8');
  const declared = new Set([...dts.matchAll(/^export (?:class|function|const) (\w+)/gm)].map((m) => m[1]));
  assert.deepEqual([...declared].sort(), Object.keys(mn).sort());
});
