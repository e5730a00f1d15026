// Process helpers for the lab: run a command (optionally inside a network namespace) and fail with
// the command line and its stderr, and start long-lived helpers whose PIDs the lab tracks itself.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

export class CommandError extends Error {
  constructor(readonly argv: string[], readonly stderr: string, readonly status: number | null) {
    super(`command failed (${status}): ${argv.join(' ')}\n${stderr.trim()}`);
  }
}

export function run(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): string {
  try {
    return execFileSync(cmd, args, {
      input: opts.input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 30_000,
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (e) {
    const err = e as { stderr?: string; status?: number | null };
    if (opts.allowFail) return '';
    throw new CommandError([cmd, ...args], String(err.stderr ?? ''), err.status ?? null);
  }
}

/** `ip -n NS ...` */
export function ipn(ns: string, ...args: string[]): string {
  return run('ip', ['-n', ns, ...args]);
}

/** run CMD inside netns NS */
export function inNs(ns: string, cmd: string, args: string[], opts: { input?: string; allowFail?: boolean; timeoutMs?: number } = {}): string {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

export function sysctl(ns: string, key: string, value: string | number): void {
  inNs(ns, 'sysctl', ['-qw', `${key}=${value}`]);
}

export function readSysctl(ns: string, key: string): string {
  return inNs(ns, 'sysctl', ['-n', key]).trim();
}

/** Long-lived helper processes (servers, kube-proxy, relays), stopped by PID, never by name. */
export class ProcessSet {
  private readonly procs: ChildProcess[] = [];

  /** Spawn; when `readyLine` is given, resolve once the process prints it (else after spawn). */
  async start(cmd: string, args: string[], opts: { readyLine?: string; readyTimeoutMs?: number; log?: (s: string) => void } = {}): Promise<ChildProcess> {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(p);
    let out = '';
    const onData = (b: Buffer) => { out += b.toString(); opts.log?.(b.toString()); };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', onData);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${cmd} ${args.join(' ')}: not ready after ${opts.readyTimeoutMs ?? 5000} ms\n${out}`)), opts.readyTimeoutMs ?? 5000);
      p.on('error', (e) => { clearTimeout(timer); reject(e); });
      p.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${cmd} ${args.join(' ')} exited (${code}) before ready:\n${out}`)); });
      if (!opts.readyLine) p.on('spawn', () => { clearTimeout(timer); resolve(); });
      else p.stdout!.on('data', () => { if (out.includes(opts.readyLine!)) { clearTimeout(timer); resolve(); } });
    });
    p.removeAllListeners('exit');
    return p;
  }

  async stop(p: ChildProcess): Promise<void> {
    const i = this.procs.indexOf(p);
    if (i >= 0) this.procs.splice(i, 1);
    if (p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const t = setTimeout(() => p.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.procs].reverse().map((p) => this.stop(p)));
  }
}
