// selectRows: the rows at given indices, in that order, features and (image projects) pixels alike.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectRows } from '../../../src/core/data/rows';
import type { Rows } from '../../../src/core/data/types';

test('selectRows keeps each image row with its pixels and file (learning-curve subsets of an image project)', () => {
  // Three 1 × 2 × 2 images whose pixels are their row number.
  const rows: Rows = {
    features: { n: 3, numeric: new Float32Array(0), categories: [] },
    y: Float64Array.from([0, 1, 2]),
    ids: ['a', 'b', 'c'],
    rowIndex: Uint32Array.from([10, 11, 12]),
    images: { pixels: Uint8Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]), files: ['a.png', 'b.png', 'c.png'] },
  };
  const picked = selectRows(rows, [2, 0], 0, 0);
  assert.equal(picked.features.n, 2);
  assert.deepEqual([...picked.y], [2, 0]);
  assert.deepEqual(picked.ids, ['c', 'a']);
  assert.deepEqual([...picked.images!.pixels], [2, 2, 2, 2, 0, 0, 0, 0]);
  assert.deepEqual(picked.images!.files, ['c.png', 'a.png']);
  assert.equal(selectRows({ ...rows, images: undefined }, [1], 0, 0).images, undefined);
});
