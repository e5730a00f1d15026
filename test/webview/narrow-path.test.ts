// The link path in a 600-px-wide panel (headless Chromium, stub VS Code host): the app tells the
// host its width (which then asks the server for the top-to-bottom layout), draws that layout with
// every label at 11 px or more on screen (computed font size × the drawn scale), pans instead of
// shrinking a graph larger than the panel, draws the reply dashed, the NAT rewrite on its edge and
// the deciding rule on the node that dropped the packet; the details go under the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PathView } from '../../src/shared/webview-protocol';
import { directionFor } from '../../src/shared/webview-protocol';
import { harnessSkip, repoRoot, fileHarness } from './harness';
import { labView } from './lab-view';

const caseName = 'flannel-host-gw--node-forward-drop';
const skip =
  harnessSkip ||
  (!existsSync(join(repoRoot, 'test/fixtures/lab', caseName)) && `lab case ${caseName} missing`);

const harness = fileHarness(skip);

const type = (m: unknown) => (m as { type?: string }).type;
const narrow = { width: 600, height: 900 };
// Through a service: DNAT on the way, a reply drawn back.
const request = { src: 'default/client', dst: 'svc/default/web-remote', port: 80 };

/** Every text of the graph: its computed font size times the scale it is drawn at (the SVG's screen CTM). */
async function renderedLabels(page: import('playwright-core').Page): Promise<{ text: string; cls: string; px: number }[]> {
  return page.locator('svg.graph text').evaluateAll((els) => els.map((e) => {
    const t = e as SVGTextElement;
    const m = t.getScreenCTM();
    const scale = m ? Math.hypot(m.a, m.b) : 1;
    return { text: t.textContent ?? '', cls: t.getAttribute('class') ?? '', px: parseFloat(getComputedStyle(t).fontSize) * scale };
  }));
}

test('host side: below 700 px the path wants the top-to-bottom layout, from 760 px left to right again', () => {
  assert.equal(directionFor(600, 'right'), 'down');
  assert.equal(directionFor(699, 'right'), 'down');
  assert.equal(directionFor(720, 'down'), 'down', 'no flip-flop near the threshold');
  assert.equal(directionFor(720, 'right'), 'right');
  assert.equal(directionFor(760, 'down'), 'right');
});

test('600-px panel: top-to-bottom path, every label ≥ 11 px on screen, reply dashed, NAT and the deciding rule where they happen', { skip }, async (t) => {
  const down: PathView = await labView(caseName, request, { direction: 'down' });
  const s = await harness.open({ theme: 'dark', viewport: narrow });
  try {
    await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
    assert.deepEqual(await s.waitForPosted((m) => type(m) === 'resize', '"resize"'), { type: 'resize', ...narrow }, 'the app tells the host its width');
    await s.post({ type: 'showResult', view: down });
    const page = s.page;
    await page.locator('svg.graph [data-node-id]').first().waitFor({ timeout: 5000 });
    assert.equal(down.graph.direction, 'down');

    // Top to bottom: every request edge ends below where it starts; ports on the top and bottom edges.
    for (const e of down.graph.edges) {
      const [a, b] = [e.points[0], e.points.at(-1)!];
      if (!e.reply) assert.ok(b.y > a.y, `request edge ${e.id} runs down`);
    }
    assert.ok(down.graph.nodes.flatMap((n) => n.ports).every((p) => p.side === 'north' || p.side === 'south'));

    // Readable: the graph is not shrunk below zoom 1, every label renders at 11 px or more.
    const labels = await renderedLabels(page);
    assert.ok(labels.length >= 2 * down.graph.nodes.length, `${labels.length} labels`);
    const small = labels.filter((l) => l.px < 11 - 1e-6);
    assert.deepEqual(small, [], 'labels under 11 px');
    const nodeLabels = labels.filter((l) => l.cls === 'node-label');
    assert.deepEqual(nodeLabels.map((l) => l.text).sort(), down.graph.nodes.map((n) => n.label).sort());
    assert.ok(nodeLabels.every((l) => l.px >= 13 - 1e-6), 'node names at 13 px');
    const k = Number(/scale\(([\d.]+)\)/.exec((await page.locator('g.viewport').getAttribute('transform'))!)![1]);
    assert.ok(k >= 1, `zoom ${k}`);
    // The canvas has the panel's width (the details went under it), and what does not fit is panned to.
    const canvas = (await page.locator('.canvas').boundingBox())!;
    assert.ok(canvas.width >= 590, `canvas ${canvas.width} px wide`);
    const aside = (await page.locator('aside.details').boundingBox())!;
    assert.ok(aside.y >= canvas.y + canvas.height - 1, 'details under the graph');
    // Larger than the panel: the node that stopped the packet is what is in view.
    const node2 = (await page.locator('[data-node-id="node2"] .node-box').boundingBox())!;
    assert.ok(node2.y >= canvas.y && node2.y + node2.height <= canvas.y + canvas.height, `node2 in view (${node2.y}, canvas ${canvas.y}+${canvas.height})`);
    const shot = await s.screenshot('webview-linkpath-narrow');
    if (down.graph.height * k > canvas.height) {
      const before = await page.locator('g.viewport').getAttribute('transform');
      await page.locator('.canvas').focus();
      await page.keyboard.press('ArrowDown');
      assert.notEqual(await page.locator('g.viewport').getAttribute('transform'), before, 'arrow keys pan');
    }

    // The FORWARD DROP on node2, where it happened.
    const decision = page.locator('[data-node-id="node2"] .node-decision');
    assert.match((await decision.textContent())!, /^✕ -A FORWARD .*-j DROP$/);
    assert.match((await page.locator('[data-node-id="node2"]').getAttribute('aria-label'))!, /decided by iptables\.drop: -A FORWARD/);
    assert.deepEqual(await s.problems(), []);
    t.diagnostic(`600 px: ${labels.length} labels, smallest ${Math.min(...labels.map((l) => l.px)).toFixed(1)} px at zoom ${k}; graph ${down.graph.width}×${down.graph.height}; ${shot}`);
  } finally {
    await s.close();
  }
});

test('600-px panel, a path that works: the reply drawn back dashed, the service DNAT on its edge, labels ≥ 11 px', { skip }, async (t) => {
  const healthy: PathView = await labView('flannel-host-gw--healthy', request, { direction: 'down' });
  const s = await harness.open({ theme: 'light', viewport: narrow });
  try {
    await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
    await s.post({ type: 'showResult', view: healthy });
    const page = s.page;
    await page.locator('svg.graph [data-node-id]').first().waitFor({ timeout: 5000 });
    assert.equal(healthy.result.verdict, 'reachable');
    assert.deepEqual((await renderedLabels(page)).filter((l) => l.px < 11 - 1e-6), []);
    // The reply is drawn, dashed; the request solid.
    const dash = (sel: string) => page.locator(sel).first().evaluate((e) => getComputedStyle(e).strokeDasharray);
    assert.ok(await page.locator('.edge.reply .edge-line').count() > 0, 'the reply is drawn');
    assert.notEqual(await dash('.edge.reply .edge-line'), 'none');
    assert.equal(await dash('.edge:not(.reply) .edge-line'), 'none');
    // The service's DNAT on the edge where it happens.
    assert.ok(await page.locator('.edge-label-text .nat', { hasText: /^DNAT .*→ 10\.244\.2\.2:8080/ }).count() >= 1, 'DNAT on its edge');
    assert.deepEqual(await s.problems(), []);
    t.diagnostic(await s.screenshot('webview-linkpath-narrow-reply'));
  } finally {
    await s.close();
  }
});

test('600-px panel showing the left-to-right layout (before the host re-lays it out): pans, never shrinks below 11 px', { skip }, async () => {
  const right: PathView = { ...(await labView(caseName, request)), runId: 'run-narrow' };
  const s = await harness.open({ theme: 'light', viewport: narrow });
  try {
    await s.waitForPosted((m) => type(m) === 'ready', '"ready"');
    await s.post({ type: 'showResult', view: right });
    await s.page.locator('svg.graph [data-node-id]').first().waitFor({ timeout: 5000 });
    assert.ok(right.graph.width > narrow.width, 'wider than the panel');
    const labels = await renderedLabels(s.page);
    assert.deepEqual(labels.filter((l) => l.px < 11 - 1e-6), []);
    // Not all of it fits: the node that stopped the packet is what is in view, the start is panned to.
    const node2 = (await s.page.locator('[data-node-id="node2"] .node-box').boundingBox())!;
    assert.ok(node2.x >= 0 && node2.x + node2.width <= narrow.width, `node2 at x ${node2.x}`);
    const client = (await s.page.locator('[data-node-id="default/client"] .node-box').boundingBox())!;
    assert.ok(client.x + client.width <= 0, 'the start is off to the left');

    // The user zooms; then the host's top-to-bottom layout of the same run arrives: drawn and fitted
    // anew (the old pan and zoom meant the other layout).
    await s.page.locator('.canvas').press('+');
    const zoomed = await s.page.locator('g.viewport').getAttribute('transform');
    const down = await labView(caseName, request, { direction: 'down' });
    await s.post({ type: 'showGraph', runId: 'run-narrow', graph: down.graph });
    await s.page.locator('.port-label.north').first().waitFor({ timeout: 5000 });
    const refit = (await s.page.locator('g.viewport').getAttribute('transform'))!;
    assert.notEqual(refit, zoomed);
    assert.equal(Number(/scale\(([\d.]+)\)/.exec(refit)![1]), 1, 'fitted at the readable zoom');
    assert.deepEqual(await s.problems(), []);
  } finally {
    await s.close();
  }
});
