// A stub VS Code webview host for browser tests of the built webview app (dist/webview.js).
// It serves, on loopback only, a host page that behaves like VS Code's webview frame as far as the
// app can tell: `acquireVsCodeApi()` (once per page, postMessage/getState/setState, every posted
// message recorded), messages from the "extension" delivered as window `message` events, the
// theme's CSS variables on <html> and its class on <body>, VS Code's default webview styles, and
// a strict CSP (scripts only with a nonce, other resources only from the served roots, styles
// also with the nonce for the toolkit's feature probe — as pathPanel.ts does). Like
// `localResourceRoots`, only dist/ and media/ of the repository are served.
// Every console error, page error, CSP violation and failed request is recorded as a "problem".
import { after, before } from 'node:test';
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumAvailable, chromiumPath, launchChromium, type Chromium } from './chromium';
import { webviewCsp } from '../../src/extension/pathPanelHtml';
import { themeBodyClass, themeVariables, type ThemeKind } from './themes';

export const repoRoot = resolve(__dirname, '../..');
export const webviewBundle = join(repoRoot, 'dist/webview.js');
export const artifactsDir = join(repoRoot, 'test/artifacts');

/**
 * Why the browser tests cannot run here, or false: the bundle not built, or no Chromium (from
 * test/vscode/setup.sh, Debian's package; CI runs that, so there it must exist).
 */
export const harnessSkip: string | false =
  (!existsSync(webviewBundle) && 'dist/webview.js missing: run `npm run build` first') ||
  (!chromiumAvailable() && !process.env.CI && `${chromiumPath} missing: run \`bash test/vscode/setup.sh\``);
const resourceRoots = ['dist', 'media'];
const wideViewport = { width: 1920, height: 1000 };

const mime: Record<string, string> = {
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ttf': 'font/ttf',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

// What VS Code injects into every webview before the app's own styles (abridged).
const defaultStyles = `
/* In VS Code the frame around the webview shows the editor background through the transparent body. */
html { background-color: var(--vscode-editor-background); scrollbar-color: var(--vscode-scrollbarSlider-background) var(--vscode-editor-background); }
body { background-color: transparent; color: var(--vscode-editor-foreground); font-family: var(--vscode-font-family);
  font-weight: var(--vscode-font-weight); font-size: var(--vscode-font-size); margin: 0; padding: 0 20px; }
a, a code { color: var(--vscode-textLink-foreground); }
code { font-family: var(--vscode-editor-font-family); }
:focus { outline: 1px solid var(--vscode-focusBorder); outline-offset: -1px; }`;

export interface OpenOptions {
  theme?: ThemeKind;
  /** What getState() returns before the app calls setState (VS Code's restored state). */
  state?: unknown;
  viewport?: { width: number; height: number };
  /** Which app the page is (`data-view` on <body>, as pathPanelHtml.ts writes it); default the link path. */
  view?: 'path' | 'matrix';
}

export interface WebviewSession {
  readonly page: Page;
  readonly theme: ThemeKind;
  /** Messages the app sent with postMessage, in order. */
  posted(): Promise<unknown[]>;
  waitForPosted(pred: (m: unknown) => boolean, what: string, timeoutMs?: number): Promise<unknown>;
  /** Delivers a message from the extension host to the app. */
  post(message: unknown): Promise<void>;
  /** The last state the app stored with setState (or the initial one). */
  state(): Promise<unknown>;
  /** Console errors, page errors, CSP violations and failed requests seen so far. */
  problems(): Promise<string[]>;
  /** Saves a PNG under test/artifacts/ and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface WebviewHarness {
  readonly origin: string;
  open(opts?: OpenOptions): Promise<WebviewSession>;
  close(): Promise<void>;
}

interface PageConfig {
  nonce: string;
  theme: ThemeKind;
  state: unknown;
  view?: 'path' | 'matrix';
}

function hostPage(origin: string, c: PageConfig): string {
  // The CSP the extension's webview host uses (pathPanelHtml.ts), with this server as cspSource.
  const csp = webviewCsp(origin, c.nonce);
  const host = {
    vars: themeVariables(c.theme),
    state: c.state ?? null,
    defaultStyles,
  };
  const kind = themeBodyClass(c.theme);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta property="csp-nonce" content="${c.nonce}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>netpath webview harness</title>
<script nonce="${c.nonce}">
(() => {
  const cfg = ${JSON.stringify(host).replace(/</g, '\\u003c')};
  const host = (window.__netpathHost = { posted: [], state: cfg.state, cspViolations: [] });
  document.addEventListener('securitypolicyviolation', (e) =>
    host.cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + (e.sourceFile ? ' in ' + e.sourceFile + ':' + e.lineNumber : '')));
  for (const [k, v] of Object.entries(cfg.vars)) document.documentElement.style.setProperty(k, v);
  // VS Code's default webview styles; a constructed sheet, as the page CSP would block a <style>.
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(cfg.defaultStyles);
  document.adoptedStyleSheets = [sheet];
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('An instance of the VS Code API has already been acquired');
    acquired = true;
    return Object.freeze({
      postMessage(message) { host.posted.push(structuredClone(message)); },
      getState() { return host.state; },
      setState(state) { host.state = structuredClone(state); return state; },
    });
  };
})();
</script>
</head>
<body class="${kind}" data-vscode-theme-kind="${kind}" data-vscode-theme-id="netpath-harness-${c.theme}"${c.view === 'matrix' ? ' data-view="matrix"' : ''}>
<div id="root"></div>
<script nonce="${c.nonce}" src="${origin}/dist/webview.js"></script>
</body>
</html>`;
}

/**
 * The harness of one test file: started before its tests (unless `skip`), closed after them. The
 * object answers as the harness once started.
 */
export function fileHarness(skip: string | false): WebviewHarness {
  let started: WebviewHarness | undefined;
  before(async () => {
    if (!skip) started = await startWebviewHarness();
  });
  after(async () => {
    await started?.close();
  });
  const running = () => {
    if (!started) throw new Error('the harness is not started (the tests are skipped)');
    return started;
  };
  return {
    get origin() {
      return running().origin;
    },
    open: (opts) => running().open(opts),
    close: async () => started?.close(),
  };
}

export async function startWebviewHarness(): Promise<WebviewHarness> {
  if (!existsSync(webviewBundle)) throw new Error(`${webviewBundle} does not exist: run \`npm run build\` first`);
  const pages = new Map<string, PageConfig>();
  let origin = '';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', origin);
    const page = url.pathname.match(/^\/page\/([a-f0-9]+)$/);
    if (page && pages.has(page[1])) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(hostPage(origin, pages.get(page[1])!));
      return;
    }
    if (url.pathname === '/favicon.ico') {
      // Browsers ask for it on their own; a webview has none and the app never loads it.
      res.writeHead(204);
      res.end();
      return;
    }
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^[/\\]+/, '');
    const file = join(repoRoot, rel);
    const allowed = resourceRoots.some((r) => rel.startsWith(r + sep) || rel.startsWith(r + '/'));
    if (!allowed || !file.startsWith(repoRoot + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`not served: ${url.pathname}`);
      return;
    }
    res.writeHead(200, { 'content-type': mime[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(readFileSync(file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  let browser: Chromium | undefined;
  const sessions = new Set<WebviewSession>();

  return {
    origin,
    async open(opts = {}) {
      browser ??= await launchChromium();
      const theme = opts.theme ?? 'light';
      const id = randomBytes(8).toString('hex');
      pages.set(id, { nonce: randomBytes(16).toString('base64'), theme, state: opts.state, view: opts.view });
      const page = await browser.context.newPage();
      // Default: a wide editor panel (the link path is drawn left to right at a readable zoom there);
      // narrow panels are asked for by size.
      await page.setViewportSize(opts.viewport ?? wideViewport);
      const problems: string[] = [];
      page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`));
      page.on('response', (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()}: ${r.url()}`));
      await page.goto(`${origin}/page/${id}`, { waitUntil: 'load' });

      const session: WebviewSession = {
        page,
        theme,
        posted: () => page.evaluate(() => (window as unknown as HostWindow).__netpathHost.posted),
        async waitForPosted(pred, what, timeoutMs = 5000) {
          const end = Date.now() + timeoutMs;
          for (;;) {
            const m = (await session.posted()).find(pred);
            if (m !== undefined) return m;
            if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for the app to post ${what}`);
            await page.waitForTimeout(50);
          }
        },
        post: (message) => page.evaluate((m) => window.postMessage(m, '*'), message),
        state: () => page.evaluate(() => (window as unknown as HostWindow).__netpathHost.state),
        async problems() {
          const csp = await page.evaluate(() => (window as unknown as HostWindow).__netpathHost.cspViolations);
          return [...problems, ...csp.map((v) => `CSP violation: ${v}`)];
        },
        async screenshot(name) {
          mkdirSync(artifactsDir, { recursive: true });
          const path = join(artifactsDir, `${name}.png`);
          await page.screenshot({ path, fullPage: true });
          return path;
        },
        async close() {
          sessions.delete(session);
          pages.delete(id);
          await page.close().catch(() => {});
        },
      };
      sessions.add(session);
      return session;
    },
    async close() {
      for (const s of [...sessions]) await s.close();
      await browser?.close();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface HostWindow {
  __netpathHost: { posted: unknown[]; state: unknown; cspViolations: string[] };
}
