import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Drives the built bundle (dist/cli.js) the way a user's shell does: exit codes are a contract.
const cli = 'dist/cli.js';

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('netpath --help lists the commands and exits 0', { skip: !existsSync(cli) && 'run `npm run build` first' }, () => {
  const r = run('--help');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^netpath \d+\.\d+\.\d+/);
  assert.match(r.stdout, /Commands:/);
});

test('an unknown command is bad input: exit 2 with the command named on stderr', { skip: !existsSync(cli) && 'run `npm run build` first' }, () => {
  const r = run('frobnicate', '--now');
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command "frobnicate --now"/);
});
