// The diagnosis server: a Node child process started by the extension over IPC
// (vscode-languageclient). It owns the engine and the cluster connection so heavy work
// never blocks the extension host. Custom requests arrive with the features that serve them.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { version } from '../shared/version';

const connection = createConnection(ProposedFeatures.all);

connection.onInitialize(() => ({
  capabilities: {},
  serverInfo: { name: 'netpath', version },
}));

connection.listen();
