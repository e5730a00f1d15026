// Helpers for tests that build real network namespaces (root only; whether they can run here is
// test/support/machine.ts's kernelTestSkip). Every name carries the
// caller's prefix so parallel test files never collide, and cleanup() removes what was made.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readlinkSync } from 'node:fs';

export function sh(script: string): string {
  return execFileSync('sh', ['-ec', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `ip -batch` with one command per line (much faster than one `ip` per command). */
export function ipBatch(lines: string[], force = false): void {
  if (!lines.length) return;
  execFileSync('ip', [...(force ? ['-force'] : []), '-batch', '-'], { input: lines.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
}

export function netnsInode(pid: number): number {
  const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
  if (!m) throw new Error(`cannot read the netns of pid ${pid}`);
  return Number(m[1]);
}

export class NetnsLab {
  private readonly procs: ChildProcess[] = [];
  readonly names: string[] = [];
  constructor(readonly prefix: string) {
    this.removeStale();
  }

  /** Leftovers of an earlier run that was killed before its cleanup. */
  private removeStale(): void {
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0];
      if (name && name.startsWith(this.prefix)) spawnSync('ip', ['netns', 'delete', name]);
    }
  }

  name(suffix: string): string {
    return `${this.prefix}${suffix}`;
  }

  add(...suffixes: string[]): void {
    ipBatch(suffixes.map((s) => `netns add ${this.name(s)}`));
    this.names.push(...suffixes.map((s) => this.name(s)));
  }

  /** Starts a long sleep (or `argv`) inside the netns and returns its pid (killed by cleanup()). */
  async sleeper(suffix: string, argv: string[] = ['sleep', '900']): Promise<number> {
    const child = spawn('ip', ['netns', 'exec', this.name(suffix), ...argv], { stdio: 'ignore' });
    this.procs.push(child);
    const pid = child.pid!;
    // `ip netns exec` execs the command in place: wait until the pid has moved into the netns.
    for (let i = 0; i < 300; i++) {
      const r = spawnSync('ip', ['netns', 'identify', String(pid)], { encoding: 'utf8' });
      if (r.stdout.trim() === this.name(suffix)) return pid;
      await new Promise((res) => setTimeout(res, 10));
    }
    throw new Error(`process ${pid} did not enter netns ${this.name(suffix)}`);
  }

  cleanup(): void {
    for (const p of this.procs) if (p.exitCode === null && p.pid) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    ipBatch(this.names.map((n) => `netns delete ${n}`), true);
    this.names.length = 0;
  }
}
