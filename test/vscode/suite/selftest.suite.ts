/// <reference types="mocha" />
// Loaded only with NETPATH_VSCODE_SELFTEST=fail: proves a failing test inside VS Code makes the
// whole run fail (runner exit code, node-test wrapper) instead of being lost on the way out.
import * as assert from 'node:assert/strict';

suite('runner self-test', () => {
  test('deliberately fails (NETPATH_VSCODE_SELFTEST=fail)', () => {
    assert.fail('deliberate failure requested by NETPATH_VSCODE_SELFTEST=fail');
  });
});
