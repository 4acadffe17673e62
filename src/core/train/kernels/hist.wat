;; WebAssembly kernels for the GBDT's hot loop: gradient/hessian histograms of binned columns, and
;; the histogram subtraction that gives a leaf's sibling for free. The per-row update is written out
;; in full in each loop (V8 does not inline calls between WebAssembly functions).
;;
;; Pointers are byte offsets into the imported (shared) memory. A histogram entry is four f32 (sum
;; of g, sum of h, row count, padding), 16 bytes; column f's bins start at entry offsets[f] (an i32
;; array), so bin b of column f is at out + 16 * (offsets[f] + b). Each row's gradient entry is the
;; same shape, (g, h, 1, 0) in f32 at gh + 16 * row, so that a row's update to a bin is one v128
;; load, one f32x4.add and one store (with f64 sums and a separate count it was two of each: the
;; float32 entries measured 1.6-2× faster per update). Float32 sums lose little: a bin holds a
;; share of the rows (about n / 255 at the root), and the split search adds the bins up in f64.
;; Counts are exact up to 2^24 rows in one bin.
;;
;;   hist(out, bins, n, offsets, fStart, fEnd, rows, m, gh, ordered, chunk, binsRows, d)
;;     Zeroes, then fills, the histogram of columns fStart <= f < fEnd over m rows, reading the
;;     column-major bins (column f's bins are the bytes at bins + f * n). The rows are rows[0..m) (an
;;     u32 array), or 0..m - 1 when rows is -1 (the root: every row in order). A leaf's rows go in
;;     chunks of `chunk` rows: each chunk's entries are first gathered, in order, to `ordered` (16 *
;;     chunk bytes of scratch, then the gathered bins; as scikit-learn's ordered gradients), and read
;;     from there by the column passes. Columns go four at a time: each row's index and entry are
;;     loaded once for four columns, and the four updates go to four different histograms (no
;;     dependency between them).
;;     A sparse leaf (binsRows not -1: the same bins row-major, d bytes per row) also has its rows'
;;     bins of columns [fStart, fEnd) gathered per chunk, whole v128 at a time, so the passes read
;;     them sequentially: a scattered row then costs one or two cache lines rather than one per
;;     column (at 1,000,000 × 50, a leaf of 1/64 of the rows measured 4.4 ns per update from the
;;     columns and 0.8 gathered; leaves of more than about 1/12 of the rows share most lines between
;;     their rows and are read from the columns, slightly faster).
;;
;;   transpose(src, n, d, dst)
;;     The column-major bins to the row-major copy that sparse leaves gather from.
;;
;; Within a histogram entry the rows are added in order, so the sums are bit-identical to the
;; one-column-at-a-time JavaScript reference (accumulateHistogram in gbdt/workspace.ts).
;;
;;   partition(rows, scratch, column, t, missingBin, missingLeft, start, end) -> left count
;;     The stable partition of rows[start..end) by one column's bins (column: the byte offset of its
;;     first bin): rows with bin <= t, or in the missing bin when missingLeft is 1, are written in
;;     order from rows[start], the others from scratch[start]. The twin of partitionRows in
;;     gbdt/partition.ts (the fallback and the reference); branch-free, as that one.
;;
;;   binaryGradients, softmaxGradients, interleave: the losses' gradients of a range of rows (see each).
;;
;; Measured and dropped: reading a sparse leaf's bins straight from the row-major copy (no gather)
;; was 2-4x slower than gathering them (the scattered loads did not overlap behind the updates); at
;; 100,000 rows, where the column-major bins stay in cache, the row-major copy did not pay.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; Zeroes the entries of columns [fStart, fEnd).
  (func $zero (param $out i32) (param $offsets i32) (param $fStart i32) (param $fEnd i32)
    (local $a i32) (local $b i32)
    (local.set $a (i32.add (local.get $out) (i32.mul (i32.load (i32.add (local.get $offsets) (i32.shl (local.get $fStart) (i32.const 2)))) (i32.const 16))))
    (local.set $b (i32.add (local.get $out) (i32.mul (i32.load (i32.add (local.get $offsets) (i32.shl (local.get $fEnd) (i32.const 2)))) (i32.const 16))))
    (memory.fill (local.get $a) (i32.const 0) (i32.sub (local.get $b) (local.get $a))))

;; Zeroes, then fills, the histogram (see the header). A leaf's rows go in chunks of at most `chunk`
  ;; rows: each chunk's entries are gathered to `ordered` first, and with row-major bins (binsRows not
  ;; -1) its rows' bins too, then every column passes over the chunk.
  (func $hist (export "hist")
    (param $out i32) (param $bins i32) (param $n i32) (param $offsets i32) (param $fStart i32) (param $fEnd i32)
    (param $rows i32) (param $m i32) (param $gh i32) (param $ordered i32) (param $chunk i32) (param $binsRows i32) (param $d i32)
    (local $f i32) (local $k i32) (local $k0 i32) (local $cm i32) (local $w i32) (local $sb i32) (local $src i32) (local $q i32) (local $end i32)
    (local $r i32)
    (call $zero (local.get $out) (local.get $offsets) (local.get $fStart) (local.get $fEnd))
    (if (i32.eq (local.get $rows) (i32.const -1))
      (then
        (call $passes (local.get $out) (local.get $bins) (local.get $n) (local.get $offsets) (local.get $fStart) (local.get $fEnd)
          (i32.const -1) (local.get $m) (local.get $gh))
        (return)))
    ;; Gathered bins: the row's bytes of columns [fStart, fEnd) rounded up to whole v128, per row.
    (local.set $w (i32.and (i32.add (i32.sub (local.get $fEnd) (local.get $fStart)) (i32.const 15)) (i32.const -16)))
    (local.set $sb (i32.add (local.get $ordered) (i32.shl (local.get $chunk) (i32.const 4))))
    (block $chunksDone
      (loop $chunks
        (br_if $chunksDone (i32.ge_u (local.get $k0) (local.get $m)))
        (local.set $cm (i32.sub (local.get $m) (local.get $k0)))
        (if (i32.gt_u (local.get $cm) (local.get $chunk)) (then (local.set $cm (local.get $chunk))))
        (local.set $k (i32.const 0))
        (local.set $q (local.get $sb))
        (block $gathered
          (loop $gather
            (br_if $gathered (i32.ge_u (local.get $k) (local.get $cm)))
            (local.set $r (i32.load (i32.add (local.get $rows) (i32.shl (i32.add (local.get $k0) (local.get $k)) (i32.const 2)))))
            (v128.store (i32.add (local.get $ordered) (i32.shl (local.get $k) (i32.const 4)))
              (v128.load (i32.add (local.get $gh) (i32.shl (local.get $r) (i32.const 4)))))
            (if (i32.ne (local.get $binsRows) (i32.const -1))
              (then
                (local.set $src (i32.add (i32.add (local.get $binsRows) (i32.mul (local.get $r) (local.get $d))) (local.get $fStart)))
                (local.set $end (i32.add (local.get $q) (local.get $w)))
                (loop $copy
                  (v128.store (local.get $q) (v128.load (local.get $src)))
                  (local.set $q (i32.add (local.get $q) (i32.const 16)))
                  (local.set $src (i32.add (local.get $src) (i32.const 16)))
                  (br_if $copy (i32.lt_u (local.get $q) (local.get $end))))))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $gather)))
        (if (i32.eq (local.get $binsRows) (i32.const -1))
          (then
            (call $passes (local.get $out) (local.get $bins) (local.get $n) (local.get $offsets) (local.get $fStart) (local.get $fEnd)
              (i32.add (local.get $rows) (i32.shl (local.get $k0) (i32.const 2))) (local.get $cm) (local.get $ordered)))
          (else
            (call $passesGathered (local.get $out) (local.get $offsets) (local.get $fStart) (local.get $fEnd)
              (local.get $sb) (local.get $w) (local.get $cm) (local.get $ordered))))
        (local.set $k0 (i32.add (local.get $k0) (local.get $cm)))
        (br $chunks))))

  ;; Column-major passes: columns [fStart, fEnd) over m rows (rows[0..m), or 0..m-1 when rows is -1),
  ;; entry k of gh for the k-th row.
  (func $passes
    (param $out i32) (param $bins i32) (param $n i32) (param $offsets i32) (param $fStart i32) (param $fEnd i32)
    (param $rows i32) (param $m i32) (param $gh i32)
    (local $f i32)
    (local.set $f (local.get $fStart))
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.gt_u (i32.add (local.get $f) (i32.const 4)) (local.get $fEnd)))
        (call $columns4 (local.get $out) (local.get $bins) (local.get $n) (local.get $offsets) (local.get $f)
          (local.get $rows) (local.get $m) (local.get $gh))
        (local.set $f (i32.add (local.get $f) (i32.const 4)))
        (br $quads)))
    (block $singlesDone
      (loop $singles
        (br_if $singlesDone (i32.ge_u (local.get $f) (local.get $fEnd)))
        (call $columns1 (local.get $out) (local.get $bins) (local.get $n) (local.get $offsets) (local.get $f)
          (local.get $rows) (local.get $m) (local.get $gh))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $singles))))

  ;; Passes over a gathered chunk: columns [fStart, fEnd) of m rows whose bins are w bytes apart from
  ;; sb (column f at byte f - fStart of each), entry k of gh for the k-th row.
  (func $passesGathered
    (param $out i32) (param $offsets i32) (param $fStart i32) (param $fEnd i32) (param $sb i32) (param $w i32) (param $m i32) (param $gh i32)
    (local $f i32) (local $a i32) (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $p i32) (local $k i32) (local $x i32) (local $v v128)
    (local.set $f (local.get $fStart))
    (block $quadsDone
      (loop $quads
        (br_if $quadsDone (i32.gt_u (i32.add (local.get $f) (i32.const 4)) (local.get $fEnd)))
        (local.set $a (i32.add (local.get $offsets) (i32.shl (local.get $f) (i32.const 2))))
        (local.set $o0 (i32.add (local.get $out) (i32.shl (i32.load offset=0 (local.get $a)) (i32.const 4))))
        (local.set $o1 (i32.add (local.get $out) (i32.shl (i32.load offset=4 (local.get $a)) (i32.const 4))))
        (local.set $o2 (i32.add (local.get $out) (i32.shl (i32.load offset=8 (local.get $a)) (i32.const 4))))
        (local.set $o3 (i32.add (local.get $out) (i32.shl (i32.load offset=12 (local.get $a)) (i32.const 4))))
        (local.set $p (i32.add (local.get $sb) (i32.sub (local.get $f) (local.get $fStart))))
        (local.set $k (i32.const 0))
        (block $rowsDone
          (loop $rowsLoop
            (br_if $rowsDone (i32.ge_u (local.get $k) (local.get $m)))
            ;; The four columns' bins in one load (little-endian: column f in the low byte).
            (local.set $x (i32.load (local.get $p)))
            (local.set $v (v128.load (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4)))))
            (local.set $a (i32.add (local.get $o0) (i32.shl (i32.and (local.get $x) (i32.const 255)) (i32.const 4))))
            (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
            (local.set $a (i32.add (local.get $o1) (i32.shl (i32.and (i32.shr_u (local.get $x) (i32.const 8)) (i32.const 255)) (i32.const 4))))
            (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
            (local.set $a (i32.add (local.get $o2) (i32.shl (i32.and (i32.shr_u (local.get $x) (i32.const 16)) (i32.const 255)) (i32.const 4))))
            (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
            (local.set $a (i32.add (local.get $o3) (i32.shl (i32.shr_u (local.get $x) (i32.const 24)) (i32.const 4))))
            (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
            (local.set $p (i32.add (local.get $p) (local.get $w)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rowsLoop)))
        (local.set $f (i32.add (local.get $f) (i32.const 4)))
        (br $quads)))
    (block $singlesDone
      (loop $singles
        (br_if $singlesDone (i32.ge_u (local.get $f) (local.get $fEnd)))
        (local.set $o0 (i32.add (local.get $out) (i32.shl (i32.load (i32.add (local.get $offsets) (i32.shl (local.get $f) (i32.const 2)))) (i32.const 4))))
        (local.set $p (i32.add (local.get $sb) (i32.sub (local.get $f) (local.get $fStart))))
        (local.set $k (i32.const 0))
        (block $rowsDone
          (loop $rowsLoop
            (br_if $rowsDone (i32.ge_u (local.get $k) (local.get $m)))
            (local.set $a (i32.add (local.get $o0) (i32.shl (i32.load8_u (local.get $p)) (i32.const 4))))
            (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (v128.load (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4))))))
            (local.set $p (i32.add (local.get $p) (local.get $w)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rowsLoop)))
        (local.set $f (i32.add (local.get $f) (i32.const 1)))
        (br $singles))))

  ;; transpose(src, n, d, dst): the column-major bins at src (column f's n bytes at src + f * n) to
  ;; row-major at dst (row i's d bytes at dst + i * d), in blocks of 256 rows (the block's rows stay
  ;; in the L1 cache while every column writes its byte of each).
  (func $transpose (export "transpose") (param $src i32) (param $n i32) (param $d i32) (param $dst i32)
    (local $i0 i32) (local $i1 i32) (local $f i32) (local $i i32) (local $s i32) (local $t i32)
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $i0) (local.get $n)))
        (local.set $i1 (i32.add (local.get $i0) (i32.const 256)))
        (if (i32.gt_u (local.get $i1) (local.get $n)) (then (local.set $i1 (local.get $n))))
        (local.set $f (i32.const 0))
        (block $columnsDone
          (loop $columns
            (br_if $columnsDone (i32.ge_u (local.get $f) (local.get $d)))
            (local.set $s (i32.add (i32.add (local.get $src) (i32.mul (local.get $f) (local.get $n))) (local.get $i0)))
            (local.set $t (i32.add (i32.add (local.get $dst) (i32.mul (local.get $i0) (local.get $d))) (local.get $f)))
            (local.set $i (local.get $i0))
            (block $rowsDone
              (loop $rowsLoop
                (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $i1)))
                (i32.store8 (local.get $t) (i32.load8_u (local.get $s)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (local.set $t (i32.add (local.get $t) (local.get $d)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $rowsLoop)))
            (local.set $f (i32.add (local.get $f) (i32.const 1)))
            (br $columns)))
        (local.set $i0 (local.get $i1))
        (br $blocks))))

  ;; Columns f..f+3 over the rows (see hist).
  (func $columns4
    (param $out i32) (param $bins i32) (param $n i32) (param $offsets i32) (param $f i32)
    (param $rows i32) (param $m i32) (param $gh i32)
    (local $base i32) (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $p i32) (local $k i32) (local $r i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $v v128)
    (local.set $base (i32.add (local.get $bins) (i32.mul (local.get $f) (local.get $n))))
    (local.set $a (i32.add (local.get $offsets) (i32.shl (local.get $f) (i32.const 2))))
    (local.set $o0 (i32.add (local.get $out) (i32.mul (i32.load offset=0 (local.get $a)) (i32.const 16))))
    (local.set $o1 (i32.add (local.get $out) (i32.mul (i32.load offset=4 (local.get $a)) (i32.const 16))))
    (local.set $o2 (i32.add (local.get $out) (i32.mul (i32.load offset=8 (local.get $a)) (i32.const 16))))
    (local.set $o3 (i32.add (local.get $out) (i32.mul (i32.load offset=12 (local.get $a)) (i32.const 16))))
    (if (i32.eq (local.get $rows) (i32.const -1))
      (then
      (block $rootDone
        (loop $root
          (br_if $rootDone (i32.ge_u (local.get $k) (local.get $m)))
          (local.set $r (local.get $k))
          (local.set $p (i32.add (local.get $base) (local.get $r)))
          (local.set $v (v128.load (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4)))))
          (local.set $a (i32.add (local.get $o0) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (local.set $p (i32.add (local.get $p) (local.get $n)))
          (local.set $b (i32.add (local.get $o1) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (local.set $p (i32.add (local.get $p) (local.get $n)))
          (local.set $c (i32.add (local.get $o2) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (local.set $p (i32.add (local.get $p) (local.get $n)))
          (local.set $d (i32.add (local.get $o3) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
          (v128.store (local.get $b) (f32x4.add (v128.load (local.get $b)) (local.get $v)))
          (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $v)))
          (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (local.get $v)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $root)))
      )
      (else
      (block $leafDone
        (loop $leaf
          (br_if $leafDone (i32.ge_u (local.get $k) (local.get $m)))
          (local.set $r (i32.load (local.get $rows)))
          (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
          (local.set $p (i32.add (local.get $base) (local.get $r)))
          (local.set $v (v128.load (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4)))))
          (local.set $a (i32.add (local.get $o0) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (local.set $p (i32.add (local.get $p) (local.get $n)))
          (local.set $b (i32.add (local.get $o1) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (local.set $p (i32.add (local.get $p) (local.get $n)))
          (local.set $c (i32.add (local.get $o2) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (local.set $p (i32.add (local.get $p) (local.get $n)))
          (local.set $d (i32.add (local.get $o3) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
          (v128.store (local.get $b) (f32x4.add (v128.load (local.get $b)) (local.get $v)))
          (v128.store (local.get $c) (f32x4.add (v128.load (local.get $c)) (local.get $v)))
          (v128.store (local.get $d) (f32x4.add (v128.load (local.get $d)) (local.get $v)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $leaf)))
      )))

  ;; Column f alone over the rows (the last columns when fewer than four remain).
  (func $columns1
    (param $out i32) (param $bins i32) (param $n i32) (param $offsets i32) (param $f i32)
    (param $rows i32) (param $m i32) (param $gh i32)
    (local $base i32) (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32) (local $p i32) (local $k i32) (local $r i32)
    (local $a i32) (local $b i32) (local $c i32) (local $d i32) (local $v v128)
    (local.set $base (i32.add (local.get $bins) (i32.mul (local.get $f) (local.get $n))))
    (local.set $a (i32.add (local.get $offsets) (i32.shl (local.get $f) (i32.const 2))))
    (local.set $o0 (i32.add (local.get $out) (i32.mul (i32.load offset=0 (local.get $a)) (i32.const 16))))
    (if (i32.eq (local.get $rows) (i32.const -1))
      (then
      (block $rootDone
        (loop $root
          (br_if $rootDone (i32.ge_u (local.get $k) (local.get $m)))
          (local.set $r (local.get $k))
          (local.set $p (i32.add (local.get $base) (local.get $r)))
          (local.set $v (v128.load (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4)))))
          (local.set $a (i32.add (local.get $o0) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $root)))
      )
      (else
      (block $leafDone
        (loop $leaf
          (br_if $leafDone (i32.ge_u (local.get $k) (local.get $m)))
          (local.set $r (i32.load (local.get $rows)))
          (local.set $rows (i32.add (local.get $rows) (i32.const 4)))
          (local.set $p (i32.add (local.get $base) (local.get $r)))
          (local.set $v (v128.load (i32.add (local.get $gh) (i32.shl (local.get $k) (i32.const 4)))))
          (local.set $a (i32.add (local.get $o0) (i32.mul (i32.load8_u (local.get $p)) (i32.const 16))))
          (v128.store (local.get $a) (f32x4.add (v128.load (local.get $a)) (local.get $v)))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $leaf)))
      )))

;; addLeafValues(scores, rows, ranges, count, stride, column, from, to): adds each leaf's value to
  ;; its rows' scores, for the positions [from, to) of the rows array: leaf i holds rows[ranges[3i] ..
  ;; ranges[3i + 1]) and has value ranges[3i + 2] (f64 triples); a row's score is the f64 at scores +
  ;; 8 * (row * stride + column). The twin of addLeafValues in gbdt/partition.ts (the fallback).
  (func (export "addLeafValues")
    (param $scores i32) (param $rows i32) (param $ranges i32) (param $count i32) (param $stride i32)
    (param $column i32) (param $from i32) (param $to i32)
    (local $i i32) (local $k i32) (local $end i32) (local $v f64) (local $a i32) (local $leaf i32)
    (local.set $scores (i32.add (local.get $scores) (i32.shl (local.get $column) (i32.const 3))))
    (local.set $stride (i32.shl (local.get $stride) (i32.const 3)))
    (block $leavesDone
      (loop $leaves
        (br_if $leavesDone (i32.ge_u (local.get $i) (local.get $count)))
        (local.set $leaf (i32.add (local.get $ranges) (i32.mul (local.get $i) (i32.const 24))))
        (local.set $k (i32.trunc_sat_f64_u (f64.max (f64.load (local.get $leaf)) (f64.convert_i32_u (local.get $from)))))
        (local.set $end (i32.trunc_sat_f64_u (f64.min (f64.load offset=8 (local.get $leaf)) (f64.convert_i32_u (local.get $to)))))
        (local.set $v (f64.load offset=16 (local.get $leaf)))
        (block $rowsDone
          (loop $rowsLoop
            (br_if $rowsDone (i32.ge_s (local.get $k) (local.get $end)))
            (local.set $a (i32.add (local.get $scores)
              (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))) (local.get $stride))))
            (f64.store (local.get $a) (f64.add (f64.load (local.get $a)) (local.get $v)))
            (local.set $k (i32.add (local.get $k) (i32.const 1)))
            (br $rowsLoop)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $leaves))))

  ;; sub(dst, src, count): dst[i] -= src[i] for count f32 values, a multiple of 4 (whole entries):
  ;; a sibling's histogram from its parent's minus the other child's. f32x4.sub rounds each lane as
  ;; f32.sub does.
  (func $sub (export "sub") (param $dst i32) (param $src i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 2))))
    (block $done
      (loop $entries
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (v128.store (local.get $dst) (f32x4.sub (v128.load (local.get $dst)) (v128.load (local.get $src))))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $entries))))

  (func $partition (export "partition")
    (param $rows i32) (param $scratch i32) (param $column i32) (param $t i32) (param $missingBin i32)
    (param $missingLeft i32) (param $start i32) (param $end i32) (result i32)
    (local $k i32) (local $l i32) (local $r i32) (local $row i32) (local $b i32) (local $left i32)
    (local.set $k (local.get $start))
    (local.set $l (local.get $start))
    (local.set $r (local.get $start))
    (block $done
      (loop $rowsLoop
        (br_if $done (i32.ge_u (local.get $k) (local.get $end)))
        (local.set $row (i32.load (i32.add (local.get $rows) (i32.shl (local.get $k) (i32.const 2)))))
        (local.set $b (i32.load8_u (i32.add (local.get $column) (local.get $row))))
        (local.set $left
          (i32.or
            (i32.le_u (local.get $b) (local.get $t))
            (i32.and (i32.eq (local.get $b) (local.get $missingBin)) (local.get $missingLeft))))
        (i32.store (i32.add (local.get $rows) (i32.shl (local.get $l) (i32.const 2))) (local.get $row))
        (i32.store (i32.add (local.get $scratch) (i32.shl (local.get $r) (i32.const 2))) (local.get $row))
        (local.set $l (i32.add (local.get $l) (local.get $left)))
        (local.set $r (i32.sub (i32.add (local.get $r) (i32.const 1)) (local.get $left)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $rowsLoop)))
    (i32.sub (local.get $l) (local.get $start)))

  ;; exp(x) in f64 for x in [-708, 709] (clamped there: beyond, the sigmoid below is 0 or 1 in
  ;; float32 either way): x = k ln 2 + r with |r| <= ln 2 / 2 (ln 2 split in two parts so that k ln 2
  ;; is exact), e^r by its Taylor series to degree 12 (truncation under 2e-16 relative), and 2^k
  ;; added to the exponent bits (NaN stays NaN). Within a few ulps of Math.exp; binaryRangeGradients
  ;; (gbdt/losses.ts) does the same operations in JavaScript, with the same results bit for bit.
  (func $exp (export "exp") (param $x f64) (result f64)
    (local $k f64) (local $r f64) (local $e f64)
    (local.set $x (f64.min (f64.max (local.get $x) (f64.const -708)) (f64.const 709)))
    (local.set $k (f64.nearest (f64.mul (local.get $x) (f64.const 1.4426950408889634))))
    (local.set $r (f64.sub (f64.sub (local.get $x) (f64.mul (local.get $k) (f64.const 0.6931471803691238)))
      (f64.mul (local.get $k) (f64.const 1.9082149292705877e-10))))
    (local.set $e (f64.const 2.08767569878681e-9))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 2.505210838544172e-8)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 2.755731922398589e-7)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 2.7557319223985893e-6)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 2.48015873015873e-5)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 1.984126984126984e-4)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 1.3888888888888889e-3)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 8.333333333333333e-3)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 4.1666666666666664e-2)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 0.16666666666666666)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 0.5)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 1)))
    (local.set $e (f64.add (f64.mul (local.get $e) (local.get $r)) (f64.const 1)))
    (f64.reinterpret_i64 (i64.add (i64.reinterpret_f64 (local.get $e))
      (i64.shl (i64.trunc_sat_f64_s (local.get $k)) (i64.const 52)))))

  ;; $exp on two lanes: the same operations, lane by lane (so the same bits).
  (func $exp2 (param $x v128) (result v128)
    (local $k v128) (local $r v128) (local $e v128)
    (local.set $x (f64x2.min (f64x2.max (local.get $x) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
    (local.set $k (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
    (local.set $r (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $k) (f64x2.splat (f64.const 0.6931471803691238))))
      (f64x2.mul (local.get $k) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
    (local.set $e (f64x2.splat (f64.const 2.08767569878681e-9)))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 2.505210838544172e-8))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 2.755731922398589e-7))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 2.7557319223985893e-6))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 2.48015873015873e-5))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 1.984126984126984e-4))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 1.3888888888888889e-3))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 8.333333333333333e-3))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 4.1666666666666664e-2))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 0.16666666666666666))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 0.5))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 1))))
    (local.set $e (f64x2.add (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (f64.const 1))))
    ;; k fits an i32 (|k| <= 1023; NaN gives 0, as i64.trunc_sat_f64_s).
    (i64x2.add (local.get $e)
      (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $k))) (i32.const 52))))

  ;; $exp2 on two v128 at once (four lanes): the same operations lane by lane (so the same bits), the
  ;; two Horner chains interleaved so that each one's latency hides behind the other's.
  (func $exp4 (param $x v128) (param $y v128) (result v128 v128)
    (local $kx v128) (local $rx v128) (local $ex v128) (local $ky v128) (local $ry v128) (local $ey v128)
    (local.set $x (f64x2.min (f64x2.max (local.get $x) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
    (local.set $y (f64x2.min (f64x2.max (local.get $y) (f64x2.splat (f64.const -708))) (f64x2.splat (f64.const 709))))
    (local.set $kx (f64x2.nearest (f64x2.mul (local.get $x) (f64x2.splat (f64.const 1.4426950408889634)))))
    (local.set $ky (f64x2.nearest (f64x2.mul (local.get $y) (f64x2.splat (f64.const 1.4426950408889634)))))
    (local.set $rx (f64x2.sub (f64x2.sub (local.get $x) (f64x2.mul (local.get $kx) (f64x2.splat (f64.const 0.6931471803691238))))
      (f64x2.mul (local.get $kx) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
    (local.set $ry (f64x2.sub (f64x2.sub (local.get $y) (f64x2.mul (local.get $ky) (f64x2.splat (f64.const 0.6931471803691238))))
      (f64x2.mul (local.get $ky) (f64x2.splat (f64.const 1.9082149292705877e-10)))))
    (local.set $ex (f64x2.splat (f64.const 2.08767569878681e-9)))
    (local.set $ey (f64x2.splat (f64.const 2.08767569878681e-9)))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 2.505210838544172e-8))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 2.505210838544172e-8))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 2.755731922398589e-7))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 2.755731922398589e-7))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 2.7557319223985893e-6))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 2.7557319223985893e-6))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 2.48015873015873e-5))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 2.48015873015873e-5))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 1.984126984126984e-4))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 1.984126984126984e-4))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 1.3888888888888889e-3))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 1.3888888888888889e-3))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 8.333333333333333e-3))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 8.333333333333333e-3))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 4.1666666666666664e-2))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 4.1666666666666664e-2))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 0.16666666666666666))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 0.16666666666666666))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 0.5))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 0.5))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 1))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 1))))
    (local.set $ex (f64x2.add (f64x2.mul (local.get $ex) (local.get $rx)) (f64x2.splat (f64.const 1))))
    (local.set $ey (f64x2.add (f64x2.mul (local.get $ey) (local.get $ry)) (f64x2.splat (f64.const 1))))
    (i64x2.add (local.get $ex)
      (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $kx))) (i32.const 52)))
    (i64x2.add (local.get $ey)
      (i64x2.shl (i64x2.extend_low_i32x4_s (i32x4.trunc_sat_f64x2_s_zero (local.get $ky))) (i32.const 52))))

  ;; binaryGradients(scores, y, gh, start, end, sums): the binary log loss's gradients of rows
  ;; [start, end): p = 1 / (1 + e^-z) of the row's f64 score z, g = p - y and h = p (1 - p) rounded
  ;; to f32 into lanes 0 and 1 of its gh entry; sums[0] and sums[1] (f64) get the sums of the
  ;; rounded g and h, added in row order. Two rows at a time (f64x2), the last odd one alone. The
  ;; twin of binaryRangeGradients (gbdt/losses.ts) with $exp for Math.exp.
  (func (export "binaryGradients") (param $scores i32) (param $y i32) (param $gh i32) (param $start i32) (param $end i32) (param $sums i32)
    (local $i i32) (local $p v128) (local $g v128) (local $h v128) (local $gh2 v128) (local $sg f64) (local $sh f64) (local $a i32)
    (local.set $i (local.get $start))
    (block $done
      (loop $pairs
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 2)) (local.get $end)))
        (local.set $p (f64x2.div (f64x2.splat (f64.const 1)) (f64x2.add (f64x2.splat (f64.const 1))
          (call $exp2 (f64x2.neg (v128.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 3)))))))))
        (local.set $g (f32x4.demote_f64x2_zero (f64x2.sub (local.get $p) (v128.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3)))))))
        (local.set $h (f32x4.demote_f64x2_zero (f64x2.mul (local.get $p) (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $p)))))
        ;; (g0, h0, g1, h1): row i's (g, h) in the low 8 bytes, row i + 1's in the high 8.
        (local.set $gh2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $g) (local.get $h)))
        (local.set $a (i32.add (local.get $gh) (i32.shl (local.get $i) (i32.const 4))))
        (v128.store64_lane 0 (local.get $a) (local.get $gh2))
        (v128.store64_lane offset=16 1 (local.get $a) (local.get $gh2))
        (local.set $sg (f64.add (f64.add (local.get $sg) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $g))))
          (f64.promote_f32 (f32x4.extract_lane 1 (local.get $g)))))
        (local.set $sh (f64.add (f64.add (local.get $sh) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $h))))
          (f64.promote_f32 (f32x4.extract_lane 1 (local.get $h)))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs)))
    (if (i32.lt_u (local.get $i) (local.get $end))
      (then
        (local.set $p (f64x2.splat (f64.div (f64.const 1) (f64.add (f64.const 1)
          (call $exp (f64.neg (f64.load (i32.add (local.get $scores) (i32.shl (local.get $i) (i32.const 3))))))))))
        (local.set $g (f32x4.splat (f32.demote_f64 (f64.sub (f64x2.extract_lane 0 (local.get $p)) (f64.load (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))))))))
        (local.set $h (f32x4.splat (f32.demote_f64 (f64.mul (f64x2.extract_lane 0 (local.get $p)) (f64.sub (f64.const 1) (f64x2.extract_lane 0 (local.get $p)))))))
        (local.set $a (i32.add (local.get $gh) (i32.shl (local.get $i) (i32.const 4))))
        (f32.store (local.get $a) (f32x4.extract_lane 0 (local.get $g)))
        (f32.store offset=4 (local.get $a) (f32x4.extract_lane 0 (local.get $h)))
        (local.set $sg (f64.add (local.get $sg) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $g)))))
        (local.set $sh (f64.add (local.get $sh) (f64.promote_f32 (f32x4.extract_lane 0 (local.get $h)))))))
    (f64.store (local.get $sums) (local.get $sg))
    (f64.store offset=8 (local.get $sums) (local.get $sh)))

  ;; softmaxGradients(scores, y, g, h, k, n, start, end, x, sums): the softmax cross-entropy
  ;; gradients of rows [start, end) (k f64 scores per row, row-major; y the f64 class index): with
  ;; m the row's largest score, e_c = $exp(s_c - m), S = e_0 + ... + e_{k-1} (added in class order)
  ;; and p_c = e_c / S, g_c = p_c - [y = c] and h_c = p_c (1 - p_c), rounded to f32, go to the
  ;; column-major arrays g and h (class c's at 4 * (c * n + row)). The loss -log p_y = log S - (s_y - m)
  ;; is left to the caller as three f64 at sums: the product of the rows' S scaled by 2^-512 each time
  ;; it reaches 2^512 (S >= 1, so the product stays in [1, 2^512 k)), the number of those scalings,
  ;; and the sum of s_y - m; so that no logarithm is needed per row. Two rows at a time (f64x2), the
  ;; last odd one alone (in both lanes, lane 0 stored). x: 16 * k bytes of scratch. The twin of
  ;; softmaxRangeGradients (gbdt/losses.ts), which computes the same bits with kernelExp.
  (func (export "softmaxGradients")
    (param $scores i32) (param $y i32) (param $g i32) (param $h i32) (param $k i32) (param $n i32)
    (param $start i32) (param $end i32) (param $x i32) (param $sums i32)
    (local $i i32) (local $r1 i32) (local $two i32) (local $c i32) (local $a0 i32) (local $a1 i32) (local $at i32)
    (local $v v128) (local $v2 v128) (local $m v128) (local $s v128) (local $yv v128) (local $p v128) (local $gv v128) (local $hv v128)
    (local $product f64) (local $scalings f64) (local $t f64)
    (local.set $product (f64.const 1))
    (local.set $i (local.get $start))
    (block $done
      (loop $pairs
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $two (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $end)))
        (local.set $r1 (i32.add (local.get $i) (local.get $two)))
        (local.set $a0 (i32.add (local.get $scores) (i32.shl (i32.mul (local.get $i) (local.get $k)) (i32.const 3))))
        (local.set $a1 (i32.add (local.get $scores) (i32.shl (i32.mul (local.get $r1) (local.get $k)) (i32.const 3))))
        ;; The two rows' scores class by class to x, and their maxima.
        (local.set $m (f64x2.splat (f64.const -inf)))
        (local.set $c (i32.const 0))
        (loop $max
          (local.set $v (v128.load64_lane 1 (i32.add (local.get $a1) (i32.shl (local.get $c) (i32.const 3)))
            (v128.load64_zero (i32.add (local.get $a0) (i32.shl (local.get $c) (i32.const 3))))))
          (v128.store (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 4))) (local.get $v))
          (local.set $m (f64x2.max (local.get $m) (local.get $v)))
          (br_if $max (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $k))))
        ;; e_c to x, two classes at a time (the last odd one alone), and their sum S in class order.
        (local.set $s (f64x2.splat (f64.const 0)))
        (local.set $c (i32.const 0))
        (block $pairsDone
          (loop $exps
            (br_if $pairsDone (i32.gt_u (i32.add (local.get $c) (i32.const 2)) (local.get $k)))
            (local.set $at (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 4))))
            (call $exp4 (f64x2.sub (v128.load (local.get $at)) (local.get $m))
              (f64x2.sub (v128.load offset=16 (local.get $at)) (local.get $m)))
            (local.set $v2)
            (local.set $v)
            (v128.store (local.get $at) (local.get $v))
            (v128.store offset=16 (local.get $at) (local.get $v2))
            (local.set $s (f64x2.add (f64x2.add (local.get $s) (local.get $v)) (local.get $v2)))
            (local.set $c (i32.add (local.get $c) (i32.const 2)))
            (br $exps)))
        (if (i32.lt_u (local.get $c) (local.get $k))
          (then
            (local.set $at (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 4))))
            (local.set $v (call $exp2 (f64x2.sub (v128.load (local.get $at)) (local.get $m))))
            (v128.store (local.get $at) (local.get $v))
            (local.set $s (f64x2.add (local.get $s) (local.get $v)))))
        (local.set $yv (v128.load64_lane 1 (i32.add (local.get $y) (i32.shl (local.get $r1) (i32.const 3)))
          (v128.load64_zero (i32.add (local.get $y) (i32.shl (local.get $i) (i32.const 3))))))
        ;; p_c, g_c and h_c; row i's in lane 0, row i + 1's in lane 1.
        (local.set $c (i32.const 0))
        (loop $classes
          (local.set $p (f64x2.div (v128.load (i32.add (local.get $x) (i32.shl (local.get $c) (i32.const 4)))) (local.get $s)))
          (local.set $gv (f32x4.demote_f64x2_zero (f64x2.sub (local.get $p)
            (v128.and (f64x2.eq (local.get $yv) (f64x2.splat (f64.convert_i32_u (local.get $c)))) (f64x2.splat (f64.const 1))))))
          (local.set $hv (f32x4.demote_f64x2_zero (f64x2.mul (local.get $p) (f64x2.sub (f64x2.splat (f64.const 1)) (local.get $p)))))
          (local.set $at (i32.shl (i32.add (i32.mul (local.get $c) (local.get $n)) (local.get $i)) (i32.const 2)))
          (if (local.get $two)
            (then
              (v128.store64_lane 0 (i32.add (local.get $g) (local.get $at)) (local.get $gv))
              (v128.store64_lane 0 (i32.add (local.get $h) (local.get $at)) (local.get $hv)))
            (else
              (v128.store32_lane 0 (i32.add (local.get $g) (local.get $at)) (local.get $gv))
              (v128.store32_lane 0 (i32.add (local.get $h) (local.get $at)) (local.get $hv))))
          (br_if $classes (i32.lt_u (local.tee $c (i32.add (local.get $c) (i32.const 1))) (local.get $k))))
        ;; The loss terms, row i then row i + 1.
        (local.set $product (f64.mul (local.get $product) (f64x2.extract_lane 0 (local.get $s))))
        (if (f64.ge (local.get $product) (f64.const 0x1p512))
          (then
            (local.set $product (f64.mul (local.get $product) (f64.const 0x1p-512)))
            (local.set $scalings (f64.add (local.get $scalings) (f64.const 1)))))
        (local.set $t (f64.add (local.get $t) (f64.sub
          (f64.load (i32.add (local.get $a0) (i32.shl (i32.trunc_sat_f64_s (f64x2.extract_lane 0 (local.get $yv))) (i32.const 3))))
          (f64x2.extract_lane 0 (local.get $m)))))
        (if (local.get $two)
          (then
            (local.set $product (f64.mul (local.get $product) (f64x2.extract_lane 1 (local.get $s))))
            (if (f64.ge (local.get $product) (f64.const 0x1p512))
              (then
                (local.set $product (f64.mul (local.get $product) (f64.const 0x1p-512)))
                (local.set $scalings (f64.add (local.get $scalings) (f64.const 1)))))
            (local.set $t (f64.add (local.get $t) (f64.sub
              (f64.load (i32.add (local.get $a1) (i32.shl (i32.trunc_sat_f64_s (f64x2.extract_lane 1 (local.get $yv))) (i32.const 3))))
              (f64x2.extract_lane 1 (local.get $m)))))))
        (local.set $i (i32.add (local.get $i) (i32.const 2)))
        (br $pairs)))
    (f64.store (local.get $sums) (local.get $product))
    (f64.store offset=8 (local.get $sums) (local.get $scalings))
    (f64.store offset=16 (local.get $sums) (local.get $t)))

  ;; interleave(g, h, gh, start, end, sums): rows [start, end) of the f32 arrays g and h to lanes 0
  ;; and 1 of their gh entries (a softmax column's gradients, for the histograms); sums[0] and
  ;; sums[1] (f64) get their sums, added in row order. The twin of BoostingWorkspace.setGradients's loop.
  (func (export "interleave") (param $g i32) (param $h i32) (param $gh i32) (param $start i32) (param $end i32) (param $sums i32)
    (local $i i32) (local $gv f32) (local $hv f32) (local $sg f64) (local $sh f64) (local $a i32)
    (local.set $i (local.get $start))
    (block $done
      (loop $rowsLoop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gv (f32.load (i32.add (local.get $g) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $hv (f32.load (i32.add (local.get $h) (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $a (i32.add (local.get $gh) (i32.shl (local.get $i) (i32.const 4))))
        (f32.store (local.get $a) (local.get $gv))
        (f32.store offset=4 (local.get $a) (local.get $hv))
        (local.set $sg (f64.add (local.get $sg) (f64.promote_f32 (local.get $gv))))
        (local.set $sh (f64.add (local.get $sh) (f64.promote_f32 (local.get $hv))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $rowsLoop)))
    (f64.store (local.get $sums) (local.get $sg))
    (f64.store offset=8 (local.get $sums) (local.get $sh)))
)
