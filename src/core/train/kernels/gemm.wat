;; Single-precision matrix multiply with WebAssembly SIMD (f32x4), the hot loop of MLP training.
;;
;;   gemm(m, n, k, a, sam, sak, b, ldb, c, ldc, accumulate)
;;     C[i, j] (+)= sum_p A(i, p) * B[p, j]        0 <= i < m, 0 <= j < n
;;   A(i, p) is at a + 4 * (i * sam + p * sak): any strides, so A or its transpose (A^T B) is read in
;;   place. B and C are row-major with row strides ldb and ldc (in floats). Pointers are byte offsets
;;   into the imported memory; strides are in floats. accumulate = 0 overwrites C, 1 adds to it.
;;
;; Rows go 4 at a time against 8 (then 4, then 1) columns, holding the C block in registers over the
;; whole k loop. A block of fewer than 4 rows repeats its last row: the repeated row computes and
;; stores exactly the same values to the same place, so no row tail code is needed.
(module
  (import "env" "memory" (memory 1))

  ;; C block of 4 rows x 8 columns.
  (func $block4x8
    (param $pa0 i32) (param $pa1 i32) (param $pa2 i32) (param $pa3 i32) (param $sak i32)
    (param $pb i32) (param $ldb i32) (param $k i32)
    (param $pc0 i32) (param $pc1 i32) (param $pc2 i32) (param $pc3 i32) (param $acc i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
    (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (if (local.get $acc)
      (then
        (local.set $c00 (v128.load (local.get $pc0)))
        (local.set $c01 (v128.load offset=16 (local.get $pc0)))
        (local.set $c10 (v128.load (local.get $pc1)))
        (local.set $c11 (v128.load offset=16 (local.get $pc1)))
        (local.set $c20 (v128.load (local.get $pc2)))
        (local.set $c21 (v128.load offset=16 (local.get $pc2)))
        (local.set $c30 (v128.load (local.get $pc3)))
        (local.set $c31 (v128.load offset=16 (local.get $pc3)))))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $x (f32x4.splat (f32.load (local.get $pa0))))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (f32x4.splat (f32.load (local.get $pa1))))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (f32x4.splat (f32.load (local.get $pa2))))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (f32x4.splat (f32.load (local.get $pa3))))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sak)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $sak)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $sak)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $step)))
    (v128.store (local.get $pc0) (local.get $c00))
    (v128.store offset=16 (local.get $pc0) (local.get $c01))
    (v128.store (local.get $pc1) (local.get $c10))
    (v128.store offset=16 (local.get $pc1) (local.get $c11))
    (v128.store (local.get $pc2) (local.get $c20))
    (v128.store offset=16 (local.get $pc2) (local.get $c21))
    (v128.store (local.get $pc3) (local.get $c30))
    (v128.store offset=16 (local.get $pc3) (local.get $c31)))

  ;; C block of 4 rows x 4 columns.
  (func $block4x4
    (param $pa0 i32) (param $pa1 i32) (param $pa2 i32) (param $pa3 i32) (param $sak i32)
    (param $pb i32) (param $ldb i32) (param $k i32)
    (param $pc0 i32) (param $pc1 i32) (param $pc2 i32) (param $pc3 i32) (param $acc i32)
    (local $c0 v128) (local $c1 v128) (local $c2 v128) (local $c3 v128) (local $b0 v128)
    (if (local.get $acc)
      (then
        (local.set $c0 (v128.load (local.get $pc0)))
        (local.set $c1 (v128.load (local.get $pc1)))
        (local.set $c2 (v128.load (local.get $pc2)))
        (local.set $c3 (v128.load (local.get $pc3)))))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (f32x4.splat (f32.load (local.get $pa0))) (local.get $b0))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (f32x4.splat (f32.load (local.get $pa1))) (local.get $b0))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (f32x4.splat (f32.load (local.get $pa2))) (local.get $b0))))
        (local.set $c3 (f32x4.add (local.get $c3) (f32x4.mul (f32x4.splat (f32.load (local.get $pa3))) (local.get $b0))))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sak)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $sak)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $sak)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $step)))
    (v128.store (local.get $pc0) (local.get $c0))
    (v128.store (local.get $pc1) (local.get $c1))
    (v128.store (local.get $pc2) (local.get $c2))
    (v128.store (local.get $pc3) (local.get $c3)))

  ;; C block of 4 rows x 1 column (the last n mod 4 columns), scalar.
  (func $block4x1
    (param $pa0 i32) (param $pa1 i32) (param $pa2 i32) (param $pa3 i32) (param $sak i32)
    (param $pb i32) (param $ldb i32) (param $k i32)
    (param $pc0 i32) (param $pc1 i32) (param $pc2 i32) (param $pc3 i32) (param $acc i32)
    (local $c0 f32) (local $c1 f32) (local $c2 f32) (local $c3 f32) (local $b0 f32)
    (if (local.get $acc)
      (then
        (local.set $c0 (f32.load (local.get $pc0)))
        (local.set $c1 (f32.load (local.get $pc1)))
        (local.set $c2 (f32.load (local.get $pc2)))
        (local.set $c3 (f32.load (local.get $pc3)))))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (f32.load (local.get $pb)))
        (local.set $c0 (f32.add (local.get $c0) (f32.mul (f32.load (local.get $pa0)) (local.get $b0))))
        (local.set $c1 (f32.add (local.get $c1) (f32.mul (f32.load (local.get $pa1)) (local.get $b0))))
        (local.set $c2 (f32.add (local.get $c2) (f32.mul (f32.load (local.get $pa2)) (local.get $b0))))
        (local.set $c3 (f32.add (local.get $c3) (f32.mul (f32.load (local.get $pa3)) (local.get $b0))))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sak)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $sak)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $sak)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $step)))
    (f32.store (local.get $pc0) (local.get $c0))
    (f32.store (local.get $pc1) (local.get $c1))
    (f32.store (local.get $pc2) (local.get $c2))
    (f32.store (local.get $pc3) (local.get $c3)))

  (func (export "gemm")
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $sam i32) (param $sak i32)
    (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32) (param $acc i32)
    (local $i i32) (local $j i32) (local $rows i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32)
    (local $pc0 i32) (local $pc1 i32) (local $pc2 i32) (local $pc3 i32)
    ;; strides to bytes
    (local.set $sam (i32.shl (local.get $sam) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (block $rowsDone
      (loop $rowBlock
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $rows (i32.sub (local.get $m) (local.get $i)))
        (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sam))))
        (local.set $pc0 (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        ;; rows past m repeat the previous row
        (local.set $pa1 (select (i32.add (local.get $pa0) (local.get $sam)) (local.get $pa0) (i32.gt_u (local.get $rows) (i32.const 1))))
        (local.set $pc1 (select (i32.add (local.get $pc0) (local.get $ldc)) (local.get $pc0) (i32.gt_u (local.get $rows) (i32.const 1))))
        (local.set $pa2 (select (i32.add (local.get $pa1) (local.get $sam)) (local.get $pa1) (i32.gt_u (local.get $rows) (i32.const 2))))
        (local.set $pc2 (select (i32.add (local.get $pc1) (local.get $ldc)) (local.get $pc1) (i32.gt_u (local.get $rows) (i32.const 2))))
        (local.set $pa3 (select (i32.add (local.get $pa2) (local.get $sam)) (local.get $pa2) (i32.gt_u (local.get $rows) (i32.const 3))))
        (local.set $pc3 (select (i32.add (local.get $pc2) (local.get $ldc)) (local.get $pc2) (i32.gt_u (local.get $rows) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $wideDone
          (loop $wide
            (br_if $wideDone (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
            (call $block4x8
              (local.get $pa0) (local.get $pa1) (local.get $pa2) (local.get $pa3) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k)
              (i32.add (local.get $pc0) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc2) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc3) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $acc))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $wide)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then
            (call $block4x4
              (local.get $pa0) (local.get $pa1) (local.get $pa2) (local.get $pa3) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k)
              (i32.add (local.get $pc0) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc2) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc3) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $acc))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))))
        (block $narrowDone
          (loop $narrow
            (br_if $narrowDone (i32.ge_u (local.get $j) (local.get $n)))
            (call $block4x1
              (local.get $pa0) (local.get $pa1) (local.get $pa2) (local.get $pa3) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k)
              (i32.add (local.get $pc0) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc2) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc3) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $acc))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $narrow)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rowBlock))))
)
