// Unpacks a .vsix (a zip) the way VS Code installs it, for the package tests.
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as yauzl from 'yauzl';

/** Extracts `vsix` into `dir` and resolves to its entries' paths ('/'-separated, files only). */
export function unpackVsix(vsix: string, dir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(vsix, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const files: string[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(files));
      zip.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return zip.readEntry();
        files.push(entry.fileName);
        zip.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const to = join(dir, entry.fileName);
          mkdirSync(dirname(to), { recursive: true });
          pipeline(stream, createWriteStream(to)).then(() => zip.readEntry(), reject);
        });
      });
      zip.readEntry();
    });
  });
}
