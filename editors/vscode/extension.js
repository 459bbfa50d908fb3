// The relc extension for VS Code: .relc files get the TextMate grammar (syntaxes/) and the relc
// language server, started as `relc lsp` and spoken to over stdio. Plain JavaScript: no build step.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

// The server's command line from the settings: relc.server.path (default `relc`) and
// relc.server.args (default ["lsp"]).
function serverOptions() {
  const config = vscode.workspace.getConfiguration('relc');
  const command = config.get('server.path') || 'relc';
  const args = config.get('server.args');
  return { command, args: Array.isArray(args) ? args.map(String) : ['lsp'], transport: TransportKind.stdio };
}

async function startClient() {
  const server = serverOptions();
  const clientOptions = {
    documentSelector: [{ scheme: 'file', language: 'relc' }],
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher('**/{*.relc,relc.yaml}') },
  };
  client = new LanguageClient('relc', 'relc language server', server, clientOptions);
  try {
    await client.start();
  } catch (err) {
    const message = err && err.message ? err.message : String(err);
    vscode.window.showErrorMessage(
      `relc: the language server did not start (${[server.command, ...server.args].join(' ')}): ${message}. ` +
        'Install relc, or set relc.server.path to its executable.',
    );
  }
}

async function stopClient() {
  const running = client;
  client = undefined;
  if (running && running.isRunning()) {
    await running.stop();
  }
}

async function activate(context) {
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('relc.server')) {
        // A new command line: restart the server with it.
        await stopClient();
        await startClient();
      }
    }),
  );
  await startClient();
}

function deactivate() {
  return stopClient();
}

module.exports = { activate, deactivate };
