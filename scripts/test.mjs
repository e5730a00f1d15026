// Runs every test/**/*.test.ts with node's own test runner (so CI can count tests), loading
// TypeScript through tsx. Node 20's `--test` has no glob support, hence this file walk.
// Extra arguments are passed through: `node scripts/test.mjs --test-name-pattern=router`
// or a list of test files to run only those.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === 'fixtures' || name === 'artifacts') continue;
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const files = args.filter((a) => a.endsWith('.ts'));
const flags = args.filter((a) => !a.endsWith('.ts'));
const targets = files.length ? files : walk('test');
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...flags, ...targets], { stdio: 'inherit' });
process.exit(r.status ?? 1);
