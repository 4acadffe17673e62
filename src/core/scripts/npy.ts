// NumPy's .npy format (version 1.0), written for script inputs so that `numpy.load` reads them:
// "\x93NUMPY", version 1.0, a little-endian u16 header length, a Python-literal header padded with
// spaces to a multiple of 64 bytes and ended by "\n", then the C-order data.
import { closeSync, openSync, writeSync } from 'node:fs';

export type NpyArray = { dtype: 'uint8'; data: Uint8Array } | { dtype: 'int64'; data: BigInt64Array };

const DESCR = { uint8: '|u1', int64: '<i8' } as const;

export function npyHeader(dtype: NpyArray['dtype'], shape: number[]): Buffer {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  const dict = `{'descr': '${DESCR[dtype]}', 'fortran_order': False, 'shape': (${dims}), }`;
  const total = Math.ceil((10 + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  header.write('\x93NUMPY', 0, 'latin1');
  header[6] = 1;
  header[7] = 0;
  header.writeUInt16LE(total - 10, 8);
  header.write(dict, 10, 'latin1');
  header[total - 1] = 0x0a;
  return header;
}

/** Writes `array` with `shape` (C order) to `file`. */
export function writeNpy(file: string, array: NpyArray, shape: number[]): void {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length)
    throw new Error(`writeNpy: shape [${shape}] holds ${count} values, the array ${array.data.length}`);
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, npyHeader(array.dtype, shape));
    writeSync(fd, new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength));
  } finally {
    closeSync(fd);
  }
}
