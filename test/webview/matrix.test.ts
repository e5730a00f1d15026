// The connectivity-matrix app in headless Chromium (stub VS Code host, the page's data-view
// "matrix"), on the broken sample's matrix as the server computes it (engine matrix + the deciding
// policies): one grid cell per matrix cell, denied cells naming their policy, verdict colours from
// the theme, one tab stop with arrow-key navigation, Enter or a click asking the host to diagnose
// that pair; light, dark and high-contrast screenshots; no console or CSP errors.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildMatrix } from '../../src/engine/matrix/matrix';
import { Network } from '../../src/engine/network';
import { loadSnapshot } from '../../src/engine/snapshot/load';
import { wireCells } from '../../src/server/matrix';
import type { MatrixView } from '../../src/shared/matrix-protocol';
import { harnessSkip, fileHarness } from './harness';
import { themeKinds } from './themes';

const skip = harnessSkip;

const harness = fileHarness(skip);
let view: MatrixView;
before(async () => {
  if (skip) return;
  const net = new Network(loadSnapshot(readFileSync('samples/broken.netpath.json', 'utf8')));
  const scope = { namespaces: ['default'] };
  const m = await buildMatrix(net, scope, { policyOnly: false });
  const deciding = await buildMatrix(net, scope, { policyOnly: true });
  view = JSON.parse(JSON.stringify({ matrix: { sourceLabel: 'broken.netpath.json', namespaces: ['default'], policyOnly: false, pods: m.pods, ports: m.ports, left: m.left, cells: wireCells(m, deciding) } }));
});

const type = (m: unknown) => (m as { type?: string }).type;
const cell = (src: string, dst: string, port: number) => `td.cell[data-src="default/${src}"][data-dst="default/${dst}"][data-port="${port}"]`;

for (const theme of themeKinds) {
  test(`${theme} theme: the grid shows every cell, denied cells name the policy, colours from the theme`, { skip }, async (t) => {
    const s = await harness.open({ theme, view: 'matrix', viewport: { width: 1400, height: 700 } });
    try {
      await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
      await s.post({ type: 'showMatrix', view });
      const page = s.page;
      await page.locator('table.grid').waitFor({ timeout: 5000 });
      assert.equal(await page.locator('table.grid td.cell').count(), view.matrix.cells.length);
      assert.equal(await page.locator('table.grid th.src').count(), 5);
      assert.deepEqual(await page.locator('table.grid th.dst').allTextContents(), ['client', 'hostnet1', 'hostnet2', 'web1', 'web2'].filter((p) => p !== 'client'));

      // web1 → web2:8080 is denied by the web tier's policy (and dropped by iptables); the cell says which policy.
      const denied = page.locator(cell('web1', 'web2', 8080));
      assert.equal(await denied.getAttribute('data-verdict'), 'unreachable');
      assert.equal(await denied.locator('.policy').textContent(), 'web-allow-client');
      assert.match((await denied.getAttribute('aria-label'))!, /^default\/web1 → default\/web2 port 8080: unreachable, denied by NetworkPolicy default\/web-allow-client \(iptables\.drop, policy\.ingress-deny\)$/);
      // Dropped without a policy: the check instead.
      assert.equal(await page.locator(cell('client', 'web2', 8080)).locator('.check').textContent(), 'iptables.drop');
      assert.equal(await page.locator(cell('client', 'web1', 8080)).getAttribute('data-verdict'), 'reachable');
      assert.equal(await page.locator(cell('client', 'web1', 8080)).locator('.mark').textContent(), '✓');
      // Theme colours: ✕ takes the theme's error foreground, ✓ its passed-test colour.
      const color = (sel: string) => page.locator(sel).first().evaluate((e) => getComputedStyle(e).color);
      const varColor = (name: string) => page.evaluate((n) => {
        const probe = document.createElement('span');
        probe.style.color = `var(${n})`;
        document.body.append(probe);
        const c = getComputedStyle(probe).color;
        probe.remove();
        return c;
      }, name);
      assert.equal(await color('td.cell.bad .mark'), await varColor('--vscode-editorError-foreground'));
      // (the harness themes define no testing colours: the theme's green chart colour, else a fixed green)
      const ok = await color('td.cell.ok .mark');
      assert.equal(ok, await varColor('--mx-ok'));
      assert.notEqual(ok, await page.evaluate(() => getComputedStyle(document.body).color), 'not the text colour');
      // Counts in the toolbar.
      const bad = view.matrix.cells.filter((c) => c.verdict === 'unreachable').length;
      assert.equal(await page.locator('.counts .count-bad').textContent(), `✕ ${bad} unreachable`);
      assert.deepEqual(await s.problems(), []);
      t.diagnostic(await s.screenshot(`webview-matrix-${theme}`));
    } finally {
      await s.close();
    }
  });
}

test('keyboard and mouse: one tab stop, arrows move, Enter and a click ask the host to diagnose the pair; state restores', { skip }, async () => {
  const s = await harness.open({ theme: 'dark', view: 'matrix', viewport: { width: 1400, height: 700 } });
  try {
    await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
    await s.post({ type: 'showMatrix', view });
    const page = s.page;
    await page.locator('table.grid').waitFor({ timeout: 5000 });
    assert.equal(await page.locator('table.grid [tabindex="0"]').count(), 1, 'one tab stop');
    await page.locator('table.grid [tabindex="0"]').focus();
    const focused = () => page.evaluate(() => {
      const e = document.activeElement as HTMLElement;
      return `${e.dataset.src} → ${e.dataset.dst}:${e.dataset.port}`;
    });
    assert.equal(await focused(), 'default/client → default/hostnet1:9100');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), 'default/client → default/hostnet2:9100');
    await page.keyboard.press('ArrowDown');
    // hostnet1 → hostnet2:9100 (hostnet1 has no cell for itself, rows are sources)
    assert.equal(await focused(), 'default/hostnet1 → default/hostnet2:9100');
    await page.keyboard.press('End');
    assert.equal(await focused(), 'default/hostnet1 → default/web2:8081');
    await page.locator('.describe', { hasText: 'default/hostnet1 → default/web2 port 8081' }).waitFor({ timeout: 2000 });
    await page.keyboard.press('Enter');
    assert.deepEqual(await s.waitForPosted((m) => type(m) === 'diagnosePair', '"diagnosePair"'), { type: 'diagnosePair', src: 'default/hostnet1', dst: 'default/web2', port: 8081, protocol: 'tcp' });
    await page.locator(cell('web1', 'web2', 8080)).click();
    const posted = (await s.posted()).filter((m) => type(m) === 'diagnosePair');
    assert.deepEqual(posted.at(-1), { type: 'diagnosePair', src: 'default/web1', dst: 'default/web2', port: 8080, protocol: 'tcp' });
    await s.page.locator('vscode-button', { hasText: 'Refresh' }).click();
    await s.waitForPosted((m) => type(m) === 'refresh', '"refresh"');

    // Reopened with the saved state: the matrix at once, the focus where it was.
    const state = await s.state();
    const s2 = await harness.open({ theme: 'dark', view: 'matrix', state, viewport: { width: 1400, height: 700 } });
    try {
      await s2.page.locator('table.grid').waitFor({ timeout: 5000 });
      assert.equal(await s2.page.locator(`${cell('web1', 'web2', 8080)}[tabindex="0"]`).count(), 1);
      assert.deepEqual(await s2.problems(), []);
    } finally {
      await s2.close();
    }
    assert.deepEqual(await s.problems(), []);
  } finally {
    await s.close();
  }
});

test('hostile names are shown escaped, a malformed message is ignored', { skip }, async () => {
  const s = await harness.open({ theme: 'light', view: 'matrix' });
  try {
    await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
    await s.post({ type: 'showMatrix', view: { matrix: { ...view.matrix, cells: [{ src: 0, dst: 99, port: 0, verdict: 'x', checks: [] }] } } });
    await s.page.waitForTimeout(200);
    assert.equal(await s.page.locator('table.grid').count(), 0, 'a cell pointing at no pod: ignored');
    const pods = ['default/evil\u202egnp.exe', 'default/b'];
    await s.post({ type: 'showMatrix', view: { matrix: { ...view.matrix, pods, ports: [{ port: 80, protocol: 'tcp' }], cells: [{ src: 0, dst: 1, port: 0, verdict: 'unreachable', checks: ['policy.ingress-deny'], policies: ['default/<img src=x>\u0007'] }, { src: 1, dst: 0, port: 0, verdict: 'reachable', checks: [] }] } } });
    await s.page.locator('table.grid').waitFor({ timeout: 5000 });
    const rows = await s.page.locator('th.src').allTextContents();
    assert.ok(rows.every((r) => !r.includes('\u202e')), JSON.stringify(rows));
    assert.equal(await s.page.locator('img').count(), 0);
    assert.ok(!(await s.page.locator('.policy').textContent())!.includes('\u0007'));
    assert.deepEqual(await s.problems(), []);
  } finally {
    await s.close();
  }
});

test('restore: the query and the matrix are kept in the state and drawn again at once; one the host cannot restore is said, with Run again', { skip }, async () => {
  const query = { source: { kind: 'snapshot', path: '/work/broken.netpath.json' }, namespaces: ['default'], policyOnly: false };
  const s = await harness.open({ theme: 'dark', view: 'matrix', viewport: { width: 1400, height: 700 } });
  let state: unknown;
  try {
    await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
    // Malformed queries are ignored: no namespace, a source of another kind, an unsaved snapshot's text.
    for (const q of [{ ...query, namespaces: [] }, { ...query, source: { kind: 'bogus', path: '/x' } }, { ...query, source: { kind: 'snapshot', text: '{}' } }]) await s.post({ type: 'showQuery', query: q });
    await s.post({ type: 'showQuery', query });
    await s.post({ type: 'showMatrix', view });
    await s.page.locator('table.grid').waitFor({ timeout: 5000 });
    state = await s.state();
    assert.deepEqual((state as { query?: unknown }).query, query, 'the valid query alone is kept');
    assert.deepEqual((state as { view?: unknown }).view, view);
  } finally {
    await s.close();
  }

  // After a reload: drawn from the state before the host says anything.
  const back = await harness.open({ theme: 'dark', view: 'matrix', state, viewport: { width: 1400, height: 700 } });
  try {
    await back.page.locator('table.grid').waitFor({ timeout: 5000 });
    assert.equal(await back.page.locator('table.grid td.cell').count(), view.matrix.cells.length);
    // The host could not restore it (it says so): the notice replaces the grid, the state drops the matrix, keeps the query.
    await back.post({ type: 'unavailable', message: 'The matrix could not be computed again after the window reloaded: no file /work/broken.netpath.json\u202e' });
    const notice = back.page.locator('p.unavailable');
    await notice.waitFor({ timeout: 5000 });
    assert.match((await notice.textContent())!, /^The matrix could not be computed again after the window reloaded: no file \/work\/broken\.netpath\.json\\u202e$/);
    assert.equal(await back.page.locator('table.grid').count(), 0);
    assert.equal(await back.page.locator('header.toolbar[role="toolbar"][aria-label="Connectivity matrix"] h1').textContent(), 'Who can talk to whom: default');
    const saved = (await back.state()) as { view?: unknown; query?: unknown };
    assert.equal(saved.view, undefined);
    assert.deepEqual(saved.query, query);
    await back.page.locator('vscode-button', { hasText: 'Run again' }).click();
    await back.waitForPosted((m) => type(m) === 'refresh', '"refresh"');
    // Computing again: the status line says so; the matrix, when it comes, replaces the notice.
    await back.post({ type: 'status', busy: true, message: 'Computing the matrix…' });
    await back.page.locator('.toolbar > .status[role="status"]', { hasText: 'Computing the matrix…' }).waitFor({ timeout: 3000 });
    await back.post({ type: 'showMatrix', view });
    await back.page.locator('table.grid').waitFor({ timeout: 5000 });
    assert.equal(await back.page.locator('p.unavailable').count(), 0);
    assert.deepEqual(await back.problems(), []);
  } finally {
    await back.close();
  }
});
