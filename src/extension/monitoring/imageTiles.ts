// The pictures of an image deployment's MonitoringReport as the Monitoring panel's tiles: the window's
// newest and worst logged images (files beside the request log) and the training samples, each a
// webview URI the browser decodes, with a caption (prediction and confidence, or the class folder).
// No vscode import: the host passes its asWebviewUri, and unit tests a plain function.
import * as path from 'node:path';
import type { MonitoredImage, MonitoringReport } from '../../core/monitor/types';
import { deploymentDir } from '../../core/spec/layout';
import type { ImageTile, MonitoringImagesView } from '../../protocol/monitoring';

/** The pictures of an image deployment's report as tiles; `uriOf` makes a webview URI of a file. */
export function imagesViewOf(
  report: MonitoringReport,
  projectDir: string,
  deployment: string,
  uriOf: (file: string) => string,
): MonitoringImagesView | undefined {
  const im = report.images;
  if (!im) return undefined;
  const logDir = deploymentDir(projectDir, deployment);
  const production = (m: MonitoredImage): ImageTile => {
    const wrong = m.truth !== undefined && m.label !== undefined && m.truth !== m.label;
    return {
      src: uriOf(path.join(logDir, m.file)),
      caption: `${m.label ?? '?'}${m.confidence !== undefined ? ` ${Math.round(m.confidence * 100)} %` : ''}${wrong ? ` (is ${m.truth})` : ''}`,
      title: `request ${m.id}${m.row ? ` row ${m.row}` : ''} · ${m.time} · ${m.file}`,
      ...(wrong ? { wrong } : {}),
    };
  };
  return {
    samples: im.samples.map(production),
    worst: im.worst.map(production),
    reference: im.reference.map((f) => ({
      src: uriOf(path.join(projectDir, f)),
      caption: path.basename(path.dirname(f)),
      title: f,
    })),
  };
}
