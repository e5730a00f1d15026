// The link-path app in headless Chromium (stub VS Code host, harness.ts) on a broken lab path:
// flannel host-gw with a FORWARD DROP on node2, probe default/client → default/web2:8080.
// One SVG element per NetNode and per link, the faulty node marked FATAL, clicking it posts
// "reveal" and shows its suspicion, clicking the suspicion posts "openEvidence", keyboard works,
// state restores; light, dark and high-contrast screenshots in test/artifacts/.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { PathView } from '../../src/shared/webview-protocol';
import { harnessSkip, repoRoot, fileHarness } from './harness';
import { labView } from './lab-view';
import { hexToRgb, themeKinds } from './themes';

const caseName = 'flannel-host-gw--node-forward-drop';
const skip =
  harnessSkip ||
  (!existsSync(join(repoRoot, 'test/fixtures/lab', caseName)) && `lab case ${caseName} missing`);

const harness = fileHarness(skip);
let view: PathView;
before(async () => {
  if (skip) return;
  view = await labView(caseName, { src: 'default/client', dst: 'default/web2', port: 8080 });
});

const type = (m: unknown) => (m as { type?: string }).type;

for (const theme of themeKinds) {
  test(`${theme} theme: the broken path is drawn, node2 is FATAL, click → reveal + details, suspicion → openEvidence`, { skip }, async (t) => {
    const s = await harness.open({ theme });
    try {
      await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
      await s.post({ type: 'showResult', view });
      const page = s.page;
      await page.locator('svg.graph [data-node-id]').first().waitFor({ timeout: 5000 });

      // One element per NetNode and per link.
      const nodeIds = await page.locator('svg.graph [data-node-id]').evaluateAll((els) => els.map((e) => e.getAttribute('data-node-id')));
      assert.deepEqual([...nodeIds].sort(), view.result.nodes.map((n) => n.id).sort());
      const linkIds = await page.locator('svg.graph [data-link-ids]').evaluateAll((els) => els.flatMap((e) => e.getAttribute('data-link-ids')!.split(' ')));
      assert.deepEqual([...linkIds].sort(), view.result.links.map((l) => l.id).sort());
      assert.equal(await page.locator('svg.graph .edge-line').count(), view.graph.edges.length);

      // The faulty node is marked with its severity (attribute, class and badge), the others are not.
      const node2 = page.locator('[data-node-id="node2"]');
      assert.equal(await node2.getAttribute('data-severity'), 'FATAL');
      assert.match((await node2.getAttribute('class'))!, /\bsev-fatal\b/);
      assert.equal(await node2.locator('.badge-text').textContent(), '1');
      assert.match((await node2.getAttribute('aria-label'))!, /node node2, 198\.51\.100\.12, FATAL, 1 suspicion/);
      assert.equal(await page.locator('[data-node-id="default/client"]').getAttribute('data-severity'), null);
      // The border really takes the theme's error colour.
      const stroke = await node2.locator('.node-box').evaluate((e) => getComputedStyle(e).stroke);
      const errVar = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue(document.body.classList.contains('vscode-high-contrast') ? '--vscode-editorError-border' : '--vscode-editorError-foreground').trim());
      assert.equal(stroke, hexToRgb(errVar));
      // Edge labels: link type with interfaces, and the packet.
      const labels = await page.locator('.edge-label-text').allTextContents();
      assert.ok(labels.some((l) => l.includes('infra  eth0 → eth0') && l.includes('tcp 10.244.1.2 → 10.244.2.2:8080')), labels.join(' | '));

      const before = (await s.posted()).length;
      await node2.click();
      const reveal = await s.waitForPosted((m) => type(m) === 'reveal', '"reveal"');
      assert.deepEqual(reveal, { type: 'reveal', nodeId: 'node2' });
      const details = page.locator('aside.details');
      await details.getByText('the packet is dropped by iptables on node2').waitFor({ timeout: 3000 });
      assert.match((await details.textContent())!, /iptables\.drop/);
      assert.match((await details.textContent())!, /-A FORWARD -d 10\.244\.2\.2\/32 .* -j DROP/);
      assert.equal(await node2.getAttribute('aria-pressed'), 'true');
      const shot = await s.screenshot(`webview-broken-path-${theme}`);

      await details.locator('[data-suspicion-index="0"]').click();
      assert.deepEqual(await s.waitForPosted((m) => type(m) === 'openEvidence', '"openEvidence"'), { type: 'openEvidence', nodeId: 'node2', suspicionIndex: 0 });
      const posted = (await s.posted()).slice(before).map(type);
      assert.deepEqual(posted, ['reveal', 'openEvidence']);
      assert.deepEqual(await s.problems(), []);
      t.diagnostic(`${theme}: ${nodeIds.length} node elements, ${linkIds.length} links in ${view.graph.edges.length} edges, node2 FATAL (stroke ${stroke}), posted ${posted.join(', ')}, 0 problems, ${shot}`);
      if (theme === 'light') {
        // The README picture: a window sized to the path at a readable zoom (the graph, the
        // details column beside it, a margin), fitted with the keyboard ("0").
        await page.setViewportSize({ width: Math.ceil(view.graph.width) + 360 + 24, height: Math.max(420, Math.ceil(view.graph.height) + 60) });
        await page.locator('.canvas').press('0');
        await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
        const file = join(repoRoot, 'media/screenshot-broken-path.png');
        copyFileSync(await s.screenshot('webview-broken-path-readme'), file);
        assert.ok(statSync(file).size < 200_000, 'README screenshot under 200 KB');
      }
    } finally {
      await s.close();
    }
  });
}

test('keyboard: Tab reaches nodes, Enter selects and reveals; host selectNode selects without echo; state restores', { skip }, async (t) => {
  const s = await harness.open({ theme: 'dark' });
  try {
    await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
    await s.post({ type: 'showResult', view });
    const page = s.page;
    await page.locator('[data-node-id="node1"]').waitFor();
    await page.locator('[data-node-id="node1"]').focus();
    await page.keyboard.press('Enter');
    assert.deepEqual(await s.waitForPosted((m) => type(m) === 'reveal', '"reveal"'), { type: 'reveal', nodeId: 'node1' });
    await page.locator('[data-node-id="default/client"]').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-node-id')), 'node1', 'Tab order follows the path');

    // The tree selected node2: the graph follows and does not echo a reveal.
    const count = (await s.posted()).length;
    await s.post({ type: 'selectNode', nodeId: 'node2' });
    await page.locator('[data-node-id="node2"].selected').waitFor({ timeout: 3000 });
    await page.locator('aside.details').getByText('iptables.drop').waitFor();
    await page.waitForTimeout(100);
    assert.equal((await s.posted()).length, count, 'no message back for a host selection');

    // Zoom in with the keyboard, then reopen with the saved state: same view, same selection.
    await page.locator('.canvas').press('+');
    // Pan, zoom and selection are written to the state once they settle (it holds the whole view).
    type Saved = { version: number; selected?: unknown; viewport?: { x: number; y: number; k: number }; view?: unknown };
    const zoomed = await page.locator('g.viewport').getAttribute('transform');
    let state = (await s.state()) as Saved;
    for (let i = 0; i < 40 && !(state.viewport && zoomed === `translate(${state.viewport.x} ${state.viewport.y}) scale(${state.viewport.k})`); i++) {
      await page.waitForTimeout(50);
      state = (await s.state()) as Saved;
    }
    assert.equal(state.version, 1);
    assert.deepEqual(state.selected, { kind: 'node', id: 'node2' });
    assert.ok(state.viewport && state.viewport.k > 0);
    const s2 = await harness.open({ theme: 'dark', state });
    try {
      await s2.page.locator('[data-node-id="node2"].selected').waitFor({ timeout: 3000 });
      const transform = await s2.page.locator('g.viewport').getAttribute('transform');
      assert.equal(transform, `translate(${state.viewport!.x} ${state.viewport!.y}) scale(${state.viewport!.k})`);
      assert.deepEqual(await s2.posted(), [{ type: 'ready' }, { type: 'resize', width: 1920, height: 1000 }], 'restored without a host message, then asks for the current view (and says its size)');
      assert.deepEqual(await s2.problems(), []);
    } finally {
      await s2.close();
    }
    assert.deepEqual(await s.problems(), []);
    t.diagnostic(`keyboard select posted reveal node1; selectNode node2 echoed nothing; state restored at zoom ${state.viewport!.k}`);
  } finally {
    await s.close();
  }
});

test('malformed host messages are ignored: the app keeps its view and logs no error', { skip }, async () => {
  const s = await harness.open({ theme: 'light' });
  try {
    await s.post({ type: 'showResult', view });
    await s.page.locator('[data-node-id="node2"]').waitFor();
    for (const m of [null, 42, { type: 'showResult' }, { type: 'showResult', view: { result: {}, graph: {} } }, { type: 'selectNode' }, { type: 'bogus' }]) await s.post(m);
    await s.page.waitForTimeout(100);
    assert.equal(await s.page.locator('svg.graph [data-node-id]').count(), view.result.nodes.length);
    assert.deepEqual(await s.problems(), []);
  } finally {
    await s.close();
  }
});
