/// <reference types="mocha" />
// Runs inside a real VS Code extension host. Checks that VS Code loaded netpath from the
// development path under test, that it activates, and that what VS Code registered from the
// manifest (commands, views, menus, settings) is what package.json declares. The checks walk the
// manifest, so they cover each contribution as the features add them.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

const extensionId = 'netpath.netpath';

interface Manifest {
  name: string;
  publisher: string;
  version: string;
  main: string;
  engines: { vscode: string };
  contributes?: {
    commands?: { command: string; title: string; category?: string }[];
    menus?: Record<string, { command?: string; submenu?: string; when?: string }[]>;
    submenus?: { id: string }[];
    views?: Record<string, { id: string; name: string }[]>;
    viewsContainers?: Record<string, { id: string }[]>;
    configuration?: ConfigSection | ConfigSection[];
  };
}
interface ConfigSection {
  properties?: Record<string, { default?: unknown }>;
}

// View containers VS Code itself provides; anything else must be declared by the manifest.
const builtInContainers = new Set(['explorer', 'scm', 'debug', 'test', 'remote']);

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(extensionId);
  assert.ok(ext, `${extensionId} is not loaded; loaded: ${vscode.extensions.all.map((e) => e.id).filter((id) => !id.startsWith('vscode.')).join(', ')}`);
  return ext;
}

function manifestOnDisk(): Manifest {
  return JSON.parse(readFileSync(join(extension().extensionPath, 'package.json'), 'utf8')) as Manifest;
}

function contributedCommands(m: Manifest): string[] {
  return (m.contributes?.commands ?? []).map((c) => c.command);
}

suite('netpath extension in VS Code', () => {
  suiteSetup(async () => {
    // Activation only registers things; the suite needs them registered.
    await extension().activate();
  });

  test('is loaded from the development path under test', () => {
    const ext = extension();
    const disk = manifestOnDisk();
    assert.equal(ext.packageJSON.name, disk.name);
    assert.equal(ext.packageJSON.version, disk.version);
    assert.equal(`${disk.publisher}.${disk.name}`, extensionId);
    assert.ok(existsSync(join(ext.extensionPath, disk.main)), `${disk.main} is missing: the runner builds it first`);
    console.log(`netpath ${disk.version} from ${ext.extensionPath} in VS Code ${vscode.version}`);
  });

  test('activates', () => {
    assert.equal(extension().isActive, true);
  });

  test('the running VS Code satisfies engines.vscode', () => {
    const want = /^\^?(\d+)\.(\d+)\.(\d+)$/.exec(manifestOnDisk().engines.vscode);
    assert.ok(want, `engines.vscode "${manifestOnDisk().engines.vscode}" is not a ^x.y.z range`);
    const have = /^(\d+)\.(\d+)\.(\d+)/.exec(vscode.version)!.slice(1).map(Number);
    const min = want.slice(1).map(Number);
    assert.equal(have[0], min[0], `major version of VS Code ${vscode.version} vs ${manifestOnDisk().engines.vscode}`);
    assert.ok(have[1] > min[1] || (have[1] === min[1] && have[2] >= min[2]), `VS Code ${vscode.version} is older than ${manifestOnDisk().engines.vscode}`);
  });

  test('VS Code read the same contributions as package.json declares', () => {
    assert.deepEqual(extension().packageJSON.contributes ?? {}, manifestOnDisk().contributes ?? {});
  });

  test('every contributed command is registered after activation', async () => {
    const declared = contributedCommands(manifestOnDisk());
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declared.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], 'contributed but not registered by activate()');
    console.log(`${declared.length} contributed commands, all registered`);
  });

  test('menus point at contributed commands or submenus', () => {
    const m = manifestOnDisk();
    const commands = new Set(contributedCommands(m));
    const submenus = new Set((m.contributes?.submenus ?? []).map((s) => s.id));
    const dangling: string[] = [];
    let entries = 0;
    for (const [menu, items] of Object.entries(m.contributes?.menus ?? {})) {
      for (const item of items) {
        entries++;
        if (item.command && !commands.has(item.command)) dangling.push(`${menu}: ${item.command}`);
        if (item.submenu && !submenus.has(item.submenu)) dangling.push(`${menu}: submenu ${item.submenu}`);
      }
    }
    assert.deepEqual(dangling, []);
    console.log(`${entries} menu entries, none dangling`);
  });

  test('views sit in declared containers and VS Code created them', async () => {
    const m = manifestOnDisk();
    const containers = new Set(Object.values(m.contributes?.viewsContainers ?? {}).flat().map((c) => c.id));
    const registered = new Set(await vscode.commands.getCommands(true));
    const views = Object.entries(m.contributes?.views ?? {});
    for (const [container, list] of views) {
      assert.ok(builtInContainers.has(container) || containers.has(container), `views container "${container}" is not declared`);
      // VS Code generates `<viewId>.focus` for every view it parsed from a manifest.
      for (const v of list) assert.ok(registered.has(`${v.id}.focus`), `view ${v.id} was not created by VS Code`);
    }
    console.log(`${views.reduce((n, [, l]) => n + l.length, 0)} views in ${containers.size} own containers`);
  });

  test('settings are known to VS Code with the declared defaults', () => {
    const c = manifestOnDisk().contributes?.configuration;
    const sections = c === undefined ? [] : Array.isArray(c) ? c : [c];
    let n = 0;
    for (const s of sections) {
      for (const [key, schema] of Object.entries(s.properties ?? {})) {
        n++;
        const seen = vscode.workspace.getConfiguration().inspect(key);
        assert.ok(seen, `setting ${key} unknown to VS Code`);
        // Without a declared default VS Code derives one from the type; only declared ones are compared.
        if ('default' in schema) assert.deepEqual(seen.defaultValue, schema.default, `default of ${key}`);
      }
    }
    console.log(`${n} settings, defaults as declared`);
  });
});
