// The built webview app (dist/webview.js) in headless Chromium inside the stub VS Code host
// (harness.ts), in a light, a dark and a high-contrast theme. Screenshots go to test/artifacts/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harnessSkip, fileHarness } from './harness';
import { hexToRgb, themeKinds, themeVariables } from './themes';

const skip = harnessSkip;

const harness = fileHarness(skip);

for (const theme of themeKinds) {
  test(`${theme} theme: the app says there is no diagnosis yet, with no console or CSP errors`, { skip }, async (t) => {
    const s = await harness.open({ theme });
    try {
      await s.page.getByText('No diagnosis to show yet.').waitFor({ state: 'visible', timeout: 5000 });
      // The host applied the theme: VS Code's default styles colour the text with the editor foreground.
      const fg = await s.page.evaluate(() => getComputedStyle(document.body).color);
      assert.equal(fg, hexToRgb(themeVariables(theme)['--vscode-editor-foreground']));
      const bg = await s.page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
      assert.equal(bg, hexToRgb(themeVariables(theme)['--vscode-editor-background']));
      const shot = await s.screenshot(`webview-empty-${theme}`);
      assert.deepEqual(await s.problems(), []);
      // "ready" (send me the view) and the panel's size (which decides the layout's direction), nothing else.
      await s.waitForPosted((m) => (m as { type?: string }).type === 'resize', '"resize"');
      assert.deepEqual(await s.posted(), [{ type: 'ready' }, { type: 'resize', width: 1920, height: 1000 }], 'only "ready" and the size before a result arrives');
      t.diagnostic(`${theme}: rendered "No diagnosis to show yet.", 0 problems, screenshot ${shot}`);
    } finally {
      await s.close();
    }
  });
}

// The harness must be able to see what it promises to catch, or the test above proves nothing.
test('harness self-check: CSP violations and page errors are caught', { skip }, async () => {
  const s = await harness.open({ theme: 'dark' });
  try {
    await s.page.evaluate(() => {
      const el = document.createElement('script');
      el.textContent = 'window.__ranWithoutNonce = true;';
      document.head.append(el);
      const img = document.createElement('img');
      img.src = 'https://example.invalid/x.png'; // blocked by CSP before any network access
      document.body.append(img);
      setTimeout(() => {
        throw new Error('deliberate page error');
      });
    });
    await s.page.waitForTimeout(200);
    const problems = await s.problems();
    assert.equal(await s.page.evaluate(() => (window as { __ranWithoutNonce?: boolean }).__ranWithoutNonce), undefined);
    assert.ok(problems.some((p) => /^CSP violation: script-src/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /^CSP violation: img-src blocked https:\/\/example\.invalid/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => p === 'page error: deliberate page error'), problems.join('\n'));
  } finally {
    await s.close();
  }
});

test('harness self-check: acquireVsCodeApi, messages both ways and state', { skip }, async () => {
  const s = await harness.open({ theme: 'light', state: { restored: 1 } });
  try {
    type Api = { postMessage(m: unknown): void; getState(): unknown; setState(s: unknown): void };
    type W = { acquireVsCodeApi(): Api; __received?: unknown[]; __netpathHost: { state: unknown } };
    // The app acquired the API on load and said "ready"; the host gave it the initial state.
    assert.deepEqual(await s.waitForPosted((m) => (m as { type?: string }).type === 'ready', '"ready"'), { type: 'ready' });
    const seen = await s.page.evaluate(() => {
      const w = window as unknown as W;
      const initial = w.__netpathHost.state;
      let second = 'no error';
      try {
        w.acquireVsCodeApi();
      } catch (e) {
        second = (e as Error).message;
      }
      w.__received = [];
      window.addEventListener('message', (e) => w.__received!.push(e.data));
      return { initial, second };
    });
    assert.deepEqual(seen.initial, { restored: 1 }, 'an unknown state is left alone');
    assert.match(seen.second, /already been acquired/);
    await s.post({ type: 'showResult', result: null });
    await s.page.waitForFunction(() => ((window as unknown as W).__received ?? []).length > 0, undefined, { timeout: 3000 });
    assert.deepEqual(await s.page.evaluate(() => (window as unknown as W).__received), [{ type: 'showResult', result: null }]);
    // A malformed showResult is ignored: the app still shows its empty state.
    await s.page.getByText('No diagnosis to show yet.').waitFor({ state: 'visible', timeout: 3000 });
    assert.deepEqual(await s.problems(), []);
  } finally {
    await s.close();
  }
});
