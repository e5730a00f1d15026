// Asks the runner (run.ts) for a screenshot of the workbench as it is now, and for the number of
// visible list rows showing some texts. Outside the runner (test-electron) there is nobody to ask:
// `available()` is false and the screenshot suite is not loaded.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ShotAnswer, ShotRequest } from '../run';

export function available(): boolean {
  return !!process.env.NETPATH_VSCODE_SHOTS && existsSync(process.env.NETPATH_VSCODE_SHOTS);
}

export async function screenshot(req: ShotRequest, timeoutMs = 20_000): Promise<ShotAnswer> {
  const dir = process.env.NETPATH_VSCODE_SHOTS!;
  const done = join(dir, `${req.name}.done`);
  // Written aside and renamed: the runner polls for `*.request` and must never read half a file.
  const file = join(dir, `${req.name}.request`);
  writeFileSync(`${file}.tmp`, JSON.stringify(req));
  renameSync(`${file}.tmp`, file);
  const end = Date.now() + timeoutMs;
  while (!existsSync(done)) {
    if (Date.now() > end) throw new Error(`no screenshot ${req.name} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const answer = JSON.parse(readFileSync(done, 'utf8')) as ShotAnswer;
  if (answer.error) throw new Error(`screenshot ${req.name}: ${answer.error}`);
  return answer;
}
