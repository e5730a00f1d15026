// Runs the in-VS Code mocha suite (test/vscode/suite/) in a real VS Code on this machine: the VS
// Code server bundled in code-server (installed by test/vscode/setup.sh), opened in headless Debian
// Chromium. The server is started directly with --enable-smoke-test-driver because only then does
// the workbench honour the `payload` URL parameter (extensionDevelopmentPath/extensionTestsPath);
// code-server's own CLI rejects that flag. The suite's result comes back through the page's
// `codeAutomationExit`, cross-checked with the per-test outcomes the suite writes to a file.
//
// usage: node --import tsx test/vscode/run.ts [--no-build] [--summary FILE]
//   env: NETPATH_VSCODE_CACHE (cache dir), NETPATH_VSCODE_TIMEOUT_MS (default 180000),
//        NETPATH_VSCODE_SELFTEST=fail (adds a deliberately failing test), NETPATH_VSCODE_VERBOSE=1
// exit: 0 suite passed; 1 suite failed or broke; 2 timeout; 3 cache missing (run setup.sh)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { format } from 'node:util';
import { buildSuite } from './build-suite';
import { launchChromium, type Chromium } from '../webview/chromium';
import type { SuiteOutcome } from './suite/index';

export const cacheDir = process.env.NETPATH_VSCODE_CACHE ?? join(homedir(), '.cache/netpath/vscode');
export const envFile = join(cacheDir, 'env.json');
const repo = resolve(__dirname, '../..');
const artifacts = join(repo, 'test/artifacts');
// The deliberate-failure self-test must not leave files that look like a real failure.
const failurePrefix = process.env.NETPATH_VSCODE_SELFTEST ? 'vscode-selftest' : 'vscode-suite';

export interface CacheEnv {
  node: string;
  serverMain: string;
  codeServerVersion: string;
  chromium: string;
}

/** What the runner reports (also written to --summary FILE for the node-test wrapper). */
export interface RunSummary {
  exitCode: number;
  reason: string;
  vscodeVersion?: string;
  outcomes: SuiteOutcome[];
  screenshot?: string;
  seconds: { build: number; server: number; suite: number; total: number };
}

const t0 = Date.now();
const secs = (from = t0) => Math.round((Date.now() - from) / 100) / 10;
const log = (...a: unknown[]) => console.log(`[vscode-runner ${secs().toFixed(1)}s]`, format(...a));

export function readCacheEnv(): CacheEnv | undefined {
  if (!existsSync(envFile)) return undefined;
  const env = JSON.parse(readFileSync(envFile, 'utf8')) as CacheEnv;
  return existsSync(env.node) && existsSync(env.serverMain) ? env : undefined;
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

function killGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    return Promise.resolve();
  }
  const hard = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  }, 3000);
  return gone.finally(() => clearTimeout(hard));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const summaryFile = args.includes('--summary') ? resolve(args[args.indexOf('--summary') + 1]) : undefined;
  const timeoutMs = Number(process.env.NETPATH_VSCODE_TIMEOUT_MS ?? 180_000);
  const verbose = !!process.env.NETPATH_VSCODE_VERBOSE;
  const summary: RunSummary = { exitCode: 1, reason: '', outcomes: [], seconds: { build: 0, server: 0, suite: 0, total: 0 } };
  const finish = (code: number, reason: string) => {
    summary.exitCode = code;
    summary.reason = reason;
    summary.seconds.total = secs();
    if (code !== 0) log(reason);
    if (summaryFile) writeFileSync(summaryFile, JSON.stringify(summary, null, 1));
    return code;
  };

  const env = readCacheEnv();
  if (!env) return finish(3, `no VS Code cache at ${cacheDir}: run \`bash test/vscode/setup.sh\` first`);

  const tmp = mkdtempSync(join(tmpdir(), 'netpath-vscode-'));
  let server: ChildProcess | undefined;
  let browser: Chromium | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    log(`got ${sig}, cleaning up`);
    void Promise.all([browser?.close(), killGroup(server)]).finally(() => {
      rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);

  let serverOut = '';
  try {
    // 1. Build the extension and the suite.
    let t = Date.now();
    if (!args.includes('--no-build')) {
      const b = spawnSync('npm', ['run', '--silent', 'build'], { cwd: repo, stdio: 'inherit' });
      if (b.status !== 0) return finish(1, `npm run build failed (${b.status})`);
    }
    const suite = await buildSuite(join(tmp, 'suite'));
    summary.seconds.build = secs(t);
    log(`built extension and suite in ${summary.seconds.build}s`);

    // 2. The VS Code server on a free loopback port, with throw-away data and extension dirs.
    t = Date.now();
    const port = await freePort();
    const workspace = join(tmp, 'workspace');
    mkdirSync(workspace);
    const resultFile = join(tmp, 'result.json');
    // Screenshots on request of the suite (suite/screenshot.ts): it writes <name>.request, the
    // runner shoots the page into test/artifacts/<name>.png and answers <name>.done.
    const shotsDir = join(tmp, 'shots');
    mkdirSync(shotsDir);
    server = spawn(
      env.node,
      [
        env.serverMain,
        '--host', '127.0.0.1',
        '--port', String(port),
        '--without-connection-token',
        '--accept-server-license-terms',
        '--enable-smoke-test-driver',
        '--disable-telemetry',
        '--disable-workspace-trust',
        '--server-data-dir', join(tmp, 'server-data'),
        '--user-data-dir', join(tmp, 'user-data'),
        '--extensions-dir', join(tmp, 'extensions'),
      ],
      {
        cwd: tmp,
        // The extension host inherits this environment: that is how the suite learns where to write.
        env: { ...process.env, NETPATH_VSCODE_RESULT: resultFile, NETPATH_VSCODE_SHOTS: shotsDir },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group, so the extension host dies with it
      },
    );
    const srv = server;
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`VS Code server not listening after 60 s:\n${serverOut}`)), 60_000);
      const on = (d: Buffer) => {
        serverOut += d.toString();
        if (verbose) process.stdout.write(d);
        if (/Extension host agent listening on|Server bound to|Web UI available/.test(serverOut)) {
          clearTimeout(timer);
          res();
        }
      };
      srv.stdout!.on('data', on);
      srv.stderr!.on('data', on);
      srv.once('exit', (c, s) => {
        clearTimeout(timer);
        rej(new Error(`VS Code server exited (${c ?? s}) before listening:\n${serverOut}`));
      });
    });
    summary.seconds.server = secs(t);
    log(`VS Code server (code-server ${env.codeServerVersion}) listening on 127.0.0.1:${port} after ${summary.seconds.server}s`);

    // 3. The workbench in Chromium, told by the payload to load the extension and run the suite.
    t = Date.now();
    const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(repo)],
      ['extensionTestsPath', remote(suite)],
      ['skipWelcome', 'true'],
    ];
    const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    browser = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    let exitFromVsCode: (code: number) => void = () => {};
    const done = new Promise<number>((r) => (exitFromVsCode = r));
    // The smoke-test driver forwards the extension host's log lines and the suite's exit code.
    await page.exposeFunction('codeAutomationLog', (_type: string, a: unknown) => {
      const line = format(...(Array.isArray(a) ? a : [a]));
      if (/^\[Service Worker\]/.test(line) && !verbose) return;
      if (verbose || /netpath|passing|failing|pending|✔|✓|[0-9]+\) |Error|assert/i.test(line)) console.log('[vscode]', line.slice(0, 2000));
    });
    await page.exposeFunction('codeAutomationExit', (code: number) => exitFromVsCode(code));
    page.on('pageerror', (e) => verbose && log('page error:', e.message.slice(0, 300)));
    const shooter = serveScreenshots(page, shotsDir);
    await page.goto(url);
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([done, new Promise<number>((r) => (timer = setTimeout(() => r(-1), timeoutMs)))]);
    clearTimeout(timer);
    shooter.stop();
    summary.seconds.suite = secs(t);

    if (existsSync(resultFile)) {
      const r = JSON.parse(readFileSync(resultFile, 'utf8')) as { vscodeVersion: string; outcomes: SuiteOutcome[] };
      summary.vscodeVersion = r.vscodeVersion;
      summary.outcomes = r.outcomes;
    }
    const failed = summary.outcomes.filter((o) => o.state === 'failed');
    const passed = summary.outcomes.filter((o) => o.state === 'passed');
    for (const o of summary.outcomes) console.log(`  ${o.state === 'passed' ? 'ok  ' : o.state === 'failed' ? 'FAIL' : 'skip'} ${o.title}${o.error ? `\n       ${o.error.split('\n').slice(0, 4).join('\n       ')}` : ''}`);

    let verdict: [number, string];
    if (code === -1) verdict = [2, `timed out after ${timeoutMs} ms waiting for the suite`];
    else if (code !== 0) verdict = [1, `VS Code reported exit code ${code}; ${failed.length} failed`];
    else if (!existsSync(resultFile)) verdict = [1, 'VS Code reported success but the suite wrote no results (did it run?)'];
    else if (failed.length > 0 || passed.length === 0) verdict = [1, `exit code 0 but ${failed.length} failed, ${passed.length} passed`];
    else verdict = [0, 'suite passed'];
    log(`in-VS Code suite (VS Code ${summary.vscodeVersion ?? '?'}): ${passed.length} passing, ${failed.length} failing in ${summary.seconds.suite}s — ${verdict[1]}`);

    if (verdict[0] !== 0) {
      mkdirSync(artifacts, { recursive: true });
      const shot = join(artifacts, `${failurePrefix}-failure.png`);
      await page.screenshot({ path: shot }).then(
        () => ((summary.screenshot = shot), log(`screenshot: ${shot}`)),
        (e: Error) => log(`no screenshot: ${e.message}`),
      );
      writeFileSync(join(artifacts, `${failurePrefix}-server.log`), serverOut);
    }
    return finish(...verdict);
  } catch (e) {
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(join(artifacts, `${failurePrefix}-server.log`), serverOut);
    const page = browser?.context.pages()[0];
    if (page) await page.screenshot({ path: join(artifacts, `${failurePrefix}-failure.png`) }).catch(() => {});
    return finish(1, `runner error: ${(e as Error).message}`);
  } finally {
    await browser?.close();
    await killGroup(server);
    if (process.env.NETPATH_VSCODE_KEEP) log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true });
  }
}

/** What the suite asks for (suite/screenshot.ts writes it) and what it gets back. */
export interface ShotRequest {
  name: string;
  /** Texts to count in visible list rows (tree views, the Problems panel). */
  countRows?: string[];
  /** CSS selectors to count inside webviews (every frame of the page): did the panel render? */
  countInWebviews?: string[];
  /** A CSS selector of text inside webviews: how large it renders (computed font size × the scale it is drawn at). */
  measureText?: string;
}
export interface ShotAnswer {
  file: string;
  rows: Record<string, number>;
  /** Per selector of `countInWebviews`: matching elements over all frames. */
  webview?: Record<string, number>;
  /** For `measureText`: how many matched, the smallest rendered size in px and its text, the width of the frame holding them. */
  text?: { count: number; minPx: number; smallest: string; frameWidth: number };
  error?: string;
}

function serveScreenshots(page: import('playwright-core').Page, dir: string): { stop(): void } {
  const busy = new Set<string>();
  const timer = setInterval(() => {
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.request') || busy.has(f)) continue;
      busy.add(f);
      const req = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ShotRequest;
      void (async () => {
        const answer: ShotAnswer = { file: join(artifacts, `${req.name}.png`), rows: {} };
        try {
          mkdirSync(artifacts, { recursive: true });
          await page.waitForTimeout(400); // let the workbench paint what the suite just did
          for (const text of req.countRows ?? []) answer.rows[text] = await page.locator('.monaco-list-row:visible', { hasText: text }).count();
          if (req.countInWebviews) {
            answer.webview = {};
            for (const sel of req.countInWebviews) {
              let n = 0;
              // Webviews are nested iframes; wait a little for the app to draw.
              for (let i = 0; i < 20 && n === 0; i++, await page.waitForTimeout(250)) {
                n = 0;
                for (const f of page.frames()) n += await f.locator(sel).count().catch(() => 0);
              }
              answer.webview[sel] = n;
            }
          }
          if (req.measureText) answer.text = await measureText(page, req.measureText);
          await page.screenshot({ path: answer.file });
          log(`screenshot: ${answer.file}`);
        } catch (e) {
          answer.error = (e as Error).message;
        }
        writeFileSync(join(dir, `${req.name}.done`), JSON.stringify(answer));
      })();
    }
  }, 100);
  return { stop: () => clearInterval(timer) };
}

/** The rendered size of every text matching `selector` in every frame (SVG text: font size × its screen CTM's scale). */
async function measureText(page: import('playwright-core').Page, selector: string): Promise<NonNullable<ShotAnswer['text']>> {
  const out = { count: 0, minPx: Number.POSITIVE_INFINITY, smallest: '', frameWidth: 0 };
  for (const f of page.frames()) {
    const r = await f.evaluate((sel) => ({
      width: window.innerWidth,
      items: [...document.querySelectorAll(sel)].map((e) => {
        const m = (e as SVGGraphicsElement).getScreenCTM?.();
        return { px: parseFloat(getComputedStyle(e).fontSize) * (m ? Math.hypot(m.a, m.b) : 1), text: e.textContent ?? '' };
      }),
    }), selector).catch(() => undefined);
    if (!r?.items.length) continue;
    out.count += r.items.length;
    out.frameWidth = r.width;
    for (const it of r.items) if (it.px < out.minPx) (out.minPx = it.px, out.smallest = it.text);
  }
  return out;
}

if (require.main === module) {
  main().then((code) => {
    if (code !== 0) log(`FAILED (exit ${code}) after ${secs()}s`);
    process.exit(code);
  });
}
