// selectRows keeps what a row carries: features, labels, ids, and for image rows their pixels, files
// and manifest metadata, in the order of the indices given.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectRows } from '../../../src/core/data/rows';
import type { Rows } from '../../../src/core/data/types';

test('selectRows carries image rows: pixels, files and metadata follow the indices', () => {
  const rows: Rows = {
    features: { n: 3, numeric: new Float32Array(0), categories: [] },
    y: Float64Array.from([0, 1, 2]),
    ids: ['a', 'b', 'c'],
    rowIndex: Uint32Array.from([0, 1, 2]),
    images: {
      pixels: Uint8Array.from([1, 1, 2, 2, 3, 3]),
      files: ['a.png', 'b.png', 'c.png'],
      metadata: { columns: ['camera'], values: ['x', 'y', 'z'] },
    },
  };
  const out = selectRows(rows, [2, 0], 0, 0);
  assert.deepEqual([...out.images!.pixels], [3, 3, 1, 1]);
  assert.deepEqual(out.images!.files, ['c.png', 'a.png']);
  assert.deepEqual(out.images!.metadata, { columns: ['camera'], values: ['z', 'x'] });
  assert.deepEqual(out.ids, ['c', 'a']);
  assert.equal(selectRows({ ...rows, images: undefined }, [1], 0, 0).images, undefined);
});
