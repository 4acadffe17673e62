// The results of Send Test Request, shown as read-only virtual JSON documents: nothing to save, no
// "Save changes?" prompt on close. Created in activate(); a result is kept while its document is open.
import * as vscode from 'vscode';

const RESULT_SCHEME = 'mlloop-test-request';

export class TestRequestResults implements vscode.Disposable {
  private readonly results = new Map<string, string>();
  private shown = 0;
  private readonly disposables = [
    vscode.workspace.registerTextDocumentContentProvider(RESULT_SCHEME, {
      provideTextDocumentContent: (uri) => this.results.get(uri.path) ?? '',
    }),
    vscode.workspace.onDidCloseTextDocument(
      (doc) => doc.uri.scheme === RESULT_SCHEME && this.results.delete(doc.uri.path),
    ),
  ];

  /** Opens `value` as JSON in a new read-only document beside the editor in use. */
  async show(value: unknown): Promise<void> {
    const uri = vscode.Uri.from({ scheme: RESULT_SCHEME, path: `/test-request-${++this.shown}.json` });
    this.results.set(uri.path, JSON.stringify(value, null, 2));
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.languages.setTextDocumentLanguage(doc, 'json');
    // Beside the editor in use (e.g. the project file); in the first column when none is open.
    await vscode.window.showTextDocument(doc, {
      viewColumn: vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active,
      preview: true,
    });
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.results.clear();
  }
}
