;; WebAssembly SIMD (f32x4) kernels for MLP training: the matrix multiply, and the cheap passes
;; around it (bias, relu, relu's gradient gate, column sums, row gathering, Adam/SGD updates), so
;; a training step makes a few calls into this module instead of many small JavaScript loops.
;;
;; Pointers are byte offsets into the imported memory; strides and counts are in floats.
;;
;;   gemm(m, n, k, a, sam, sak, b, ldb, c, ldc, init, bias, post, g, ldg)
;;     C[i, j] = post(init(i, j) + sum_p A(i, p) * B[p, j])        0 <= i < m, 0 <= j < n
;;     A(i, p) is at a + 4 * (i * sam + p * sak): any strides, so A or its transpose is read in
;;     place. B, C (and G) are row-major with row strides ldb, ldc (ldg).
;;     init: 0 zero, 1 C's current value (accumulate), 2 the row vector at `bias`
;;     post: 0 none, 1 relu (max(x, 0)), 2 keep x where G[i, j] > 0 else 0 (relu's gradient)
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
    (param $pc0 i32) (param $pc1 i32) (param $pc2 i32) (param $pc3 i32)
    (param $init i32) (param $bias i32) (param $post i32)
    (param $pg0 i32) (param $pg1 i32) (param $pg2 i32) (param $pg3 i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $x v128)
    (if (i32.eq (local.get $init) (i32.const 1))
      (then
        (local.set $c00 (v128.load (local.get $pc0)))
        (local.set $c01 (v128.load offset=16 (local.get $pc0)))
        (local.set $c10 (v128.load (local.get $pc1)))
        (local.set $c11 (v128.load offset=16 (local.get $pc1)))
        (local.set $c20 (v128.load (local.get $pc2)))
        (local.set $c21 (v128.load offset=16 (local.get $pc2)))
        (local.set $c30 (v128.load (local.get $pc3)))
        (local.set $c31 (v128.load offset=16 (local.get $pc3)))
      )
      (else (if (i32.eq (local.get $init) (i32.const 2))
        (then
          (local.set $b0 (v128.load (local.get $bias)))
          (local.set $b1 (v128.load offset=16 (local.get $bias)))
          (local.set $c00 (local.get $b0))
          (local.set $c01 (local.get $b1))
          (local.set $c10 (local.get $b0))
          (local.set $c11 (local.get $b1))
          (local.set $c20 (local.get $b0))
          (local.set $c21 (local.get $b1))
          (local.set $c30 (local.get $b0))
          (local.set $c31 (local.get $b1))
        ))))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $x (v128.load32_splat (local.get $pa0)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $pa1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $pa2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $x (v128.load32_splat (local.get $pa3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sak)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $sak)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $sak)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $step)))
    (if (i32.eq (local.get $post) (i32.const 1))
      (then
        (local.set $c00 (f32x4.max (local.get $c00) (v128.const f32x4 0 0 0 0)))
        (local.set $c01 (f32x4.max (local.get $c01) (v128.const f32x4 0 0 0 0)))
        (local.set $c10 (f32x4.max (local.get $c10) (v128.const f32x4 0 0 0 0)))
        (local.set $c11 (f32x4.max (local.get $c11) (v128.const f32x4 0 0 0 0)))
        (local.set $c20 (f32x4.max (local.get $c20) (v128.const f32x4 0 0 0 0)))
        (local.set $c21 (f32x4.max (local.get $c21) (v128.const f32x4 0 0 0 0)))
        (local.set $c30 (f32x4.max (local.get $c30) (v128.const f32x4 0 0 0 0)))
        (local.set $c31 (f32x4.max (local.get $c31) (v128.const f32x4 0 0 0 0)))
      ))
    (if (i32.eq (local.get $post) (i32.const 2))
      (then
        (local.set $c00 (v128.and (local.get $c00) (f32x4.gt (v128.load (local.get $pg0)) (v128.const f32x4 0 0 0 0))))
        (local.set $c01 (v128.and (local.get $c01) (f32x4.gt (v128.load offset=16 (local.get $pg0)) (v128.const f32x4 0 0 0 0))))
        (local.set $c10 (v128.and (local.get $c10) (f32x4.gt (v128.load (local.get $pg1)) (v128.const f32x4 0 0 0 0))))
        (local.set $c11 (v128.and (local.get $c11) (f32x4.gt (v128.load offset=16 (local.get $pg1)) (v128.const f32x4 0 0 0 0))))
        (local.set $c20 (v128.and (local.get $c20) (f32x4.gt (v128.load (local.get $pg2)) (v128.const f32x4 0 0 0 0))))
        (local.set $c21 (v128.and (local.get $c21) (f32x4.gt (v128.load offset=16 (local.get $pg2)) (v128.const f32x4 0 0 0 0))))
        (local.set $c30 (v128.and (local.get $c30) (f32x4.gt (v128.load (local.get $pg3)) (v128.const f32x4 0 0 0 0))))
        (local.set $c31 (v128.and (local.get $c31) (f32x4.gt (v128.load offset=16 (local.get $pg3)) (v128.const f32x4 0 0 0 0))))
      ))
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
    (param $pc0 i32) (param $pc1 i32) (param $pc2 i32) (param $pc3 i32)
    (param $init i32) (param $bias i32) (param $post i32)
    (param $pg0 i32) (param $pg1 i32) (param $pg2 i32) (param $pg3 i32)
    (local $c00 v128) (local $c10 v128) (local $c20 v128) (local $c30 v128)
    (local $b0 v128) (local $x v128)
    (if (i32.eq (local.get $init) (i32.const 1))
      (then
        (local.set $c00 (v128.load (local.get $pc0)))
        (local.set $c10 (v128.load (local.get $pc1)))
        (local.set $c20 (v128.load (local.get $pc2)))
        (local.set $c30 (v128.load (local.get $pc3)))
      )
      (else (if (i32.eq (local.get $init) (i32.const 2))
        (then
          (local.set $b0 (v128.load (local.get $bias)))
          (local.set $c00 (local.get $b0))
          (local.set $c10 (local.get $b0))
          (local.set $c20 (local.get $b0))
          (local.set $c30 (local.get $b0))
        ))))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (v128.load (local.get $pb)))
        (local.set $x (v128.load32_splat (local.get $pa0)))
        (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $x (v128.load32_splat (local.get $pa1)))
        (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $x (v128.load32_splat (local.get $pa2)))
        (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $x (v128.load32_splat (local.get $pa3)))
        (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sak)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $sak)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $sak)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $step)))
    (if (i32.eq (local.get $post) (i32.const 1))
      (then
        (local.set $c00 (f32x4.max (local.get $c00) (v128.const f32x4 0 0 0 0)))
        (local.set $c10 (f32x4.max (local.get $c10) (v128.const f32x4 0 0 0 0)))
        (local.set $c20 (f32x4.max (local.get $c20) (v128.const f32x4 0 0 0 0)))
        (local.set $c30 (f32x4.max (local.get $c30) (v128.const f32x4 0 0 0 0)))
      ))
    (if (i32.eq (local.get $post) (i32.const 2))
      (then
        (local.set $c00 (v128.and (local.get $c00) (f32x4.gt (v128.load (local.get $pg0)) (v128.const f32x4 0 0 0 0))))
        (local.set $c10 (v128.and (local.get $c10) (f32x4.gt (v128.load (local.get $pg1)) (v128.const f32x4 0 0 0 0))))
        (local.set $c20 (v128.and (local.get $c20) (f32x4.gt (v128.load (local.get $pg2)) (v128.const f32x4 0 0 0 0))))
        (local.set $c30 (v128.and (local.get $c30) (f32x4.gt (v128.load (local.get $pg3)) (v128.const f32x4 0 0 0 0))))
      ))
    (v128.store (local.get $pc0) (local.get $c00))
    (v128.store (local.get $pc1) (local.get $c10))
    (v128.store (local.get $pc2) (local.get $c20))
    (v128.store (local.get $pc3) (local.get $c30)))

  ;; C block of 4 rows x 1 column.
  (func $block4x1
    (param $pa0 i32) (param $pa1 i32) (param $pa2 i32) (param $pa3 i32) (param $sak i32)
    (param $pb i32) (param $ldb i32) (param $k i32)
    (param $pc0 i32) (param $pc1 i32) (param $pc2 i32) (param $pc3 i32)
    (param $init i32) (param $bias i32) (param $post i32)
    (param $pg0 i32) (param $pg1 i32) (param $pg2 i32) (param $pg3 i32)
    (local $c00 f32) (local $c10 f32) (local $c20 f32) (local $c30 f32)
    (local $b0 f32) (local $x f32)
    (if (i32.eq (local.get $init) (i32.const 1))
      (then
        (local.set $c00 (f32.load (local.get $pc0)))
        (local.set $c10 (f32.load (local.get $pc1)))
        (local.set $c20 (f32.load (local.get $pc2)))
        (local.set $c30 (f32.load (local.get $pc3)))
      )
      (else (if (i32.eq (local.get $init) (i32.const 2))
        (then
          (local.set $b0 (f32.load (local.get $bias)))
          (local.set $c00 (local.get $b0))
          (local.set $c10 (local.get $b0))
          (local.set $c20 (local.get $b0))
          (local.set $c30 (local.get $b0))
        ))))
    (block $done
      (loop $step
        (br_if $done (i32.eqz (local.get $k)))
        (local.set $b0 (f32.load (local.get $pb)))
        (local.set $x (f32.load (local.get $pa0)))
        (local.set $c00 (f32.add (local.get $c00) (f32.mul (local.get $x) (local.get $b0))))
        (local.set $x (f32.load (local.get $pa1)))
        (local.set $c10 (f32.add (local.get $c10) (f32.mul (local.get $x) (local.get $b0))))
        (local.set $x (f32.load (local.get $pa2)))
        (local.set $c20 (f32.add (local.get $c20) (f32.mul (local.get $x) (local.get $b0))))
        (local.set $x (f32.load (local.get $pa3)))
        (local.set $c30 (f32.add (local.get $c30) (f32.mul (local.get $x) (local.get $b0))))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $sak)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $sak)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $sak)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $sak)))
        (local.set $pb (i32.add (local.get $pb) (local.get $ldb)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $step)))
    (if (i32.eq (local.get $post) (i32.const 1))
      (then
        (local.set $c00 (f32.max (local.get $c00) (f32.const 0)))
        (local.set $c10 (f32.max (local.get $c10) (f32.const 0)))
        (local.set $c20 (f32.max (local.get $c20) (f32.const 0)))
        (local.set $c30 (f32.max (local.get $c30) (f32.const 0)))
      ))
    (if (i32.eq (local.get $post) (i32.const 2))
      (then
        (local.set $c00 (select (local.get $c00) (f32.const 0) (f32.gt (f32.load (local.get $pg0)) (f32.const 0))))
        (local.set $c10 (select (local.get $c10) (f32.const 0) (f32.gt (f32.load (local.get $pg1)) (f32.const 0))))
        (local.set $c20 (select (local.get $c20) (f32.const 0) (f32.gt (f32.load (local.get $pg2)) (f32.const 0))))
        (local.set $c30 (select (local.get $c30) (f32.const 0) (f32.gt (f32.load (local.get $pg3)) (f32.const 0))))
      ))
    (f32.store (local.get $pc0) (local.get $c00))
    (f32.store (local.get $pc1) (local.get $c10))
    (f32.store (local.get $pc2) (local.get $c20))
    (f32.store (local.get $pc3) (local.get $c30)))

  (func (export "gemm")
    (param $m i32) (param $n i32) (param $k i32)
    (param $a i32) (param $sam i32) (param $sak i32)
    (param $b i32) (param $ldb i32) (param $c i32) (param $ldc i32)
    (param $init i32) (param $bias i32) (param $post i32) (param $g i32) (param $ldg i32)
    (local $i i32) (local $j i32) (local $rows i32)
    (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32)
    (local $pc0 i32) (local $pc1 i32) (local $pc2 i32) (local $pc3 i32)
    (local $pg0 i32) (local $pg1 i32) (local $pg2 i32) (local $pg3 i32)
    ;; strides to bytes
    (local.set $sam (i32.shl (local.get $sam) (i32.const 2)))
    (local.set $sak (i32.shl (local.get $sak) (i32.const 2)))
    (local.set $ldb (i32.shl (local.get $ldb) (i32.const 2)))
    (local.set $ldc (i32.shl (local.get $ldc) (i32.const 2)))
    (local.set $ldg (i32.shl (local.get $ldg) (i32.const 2)))
    (block $rowsDone
      (loop $rowBlock
        (br_if $rowsDone (i32.ge_u (local.get $i) (local.get $m)))
        (local.set $rows (i32.sub (local.get $m) (local.get $i)))
        (local.set $pa0 (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sam))))
        (local.set $pc0 (i32.add (local.get $c) (i32.mul (local.get $i) (local.get $ldc))))
        (local.set $pg0 (i32.add (local.get $g) (i32.mul (local.get $i) (local.get $ldg))))
        ;; rows past m repeat the previous row
        (local.set $pa1 (select (i32.add (local.get $pa0) (local.get $sam)) (local.get $pa0) (i32.gt_u (local.get $rows) (i32.const 1))))
        (local.set $pc1 (select (i32.add (local.get $pc0) (local.get $ldc)) (local.get $pc0) (i32.gt_u (local.get $rows) (i32.const 1))))
        (local.set $pg1 (select (i32.add (local.get $pg0) (local.get $ldg)) (local.get $pg0) (i32.gt_u (local.get $rows) (i32.const 1))))
        (local.set $pa2 (select (i32.add (local.get $pa1) (local.get $sam)) (local.get $pa1) (i32.gt_u (local.get $rows) (i32.const 2))))
        (local.set $pc2 (select (i32.add (local.get $pc1) (local.get $ldc)) (local.get $pc1) (i32.gt_u (local.get $rows) (i32.const 2))))
        (local.set $pg2 (select (i32.add (local.get $pg1) (local.get $ldg)) (local.get $pg1) (i32.gt_u (local.get $rows) (i32.const 2))))
        (local.set $pa3 (select (i32.add (local.get $pa2) (local.get $sam)) (local.get $pa2) (i32.gt_u (local.get $rows) (i32.const 3))))
        (local.set $pc3 (select (i32.add (local.get $pc2) (local.get $ldc)) (local.get $pc2) (i32.gt_u (local.get $rows) (i32.const 3))))
        (local.set $pg3 (select (i32.add (local.get $pg2) (local.get $ldg)) (local.get $pg2) (i32.gt_u (local.get $rows) (i32.const 3))))
        (local.set $j (i32.const 0))
        (block $wideDone
          (loop $wide
            (br_if $wideDone (i32.gt_u (i32.add (local.get $j) (i32.const 8)) (local.get $n)))
            (call $block4x8
              (local.get $pa0) (local.get $pa1) (local.get $pa2) (local.get $pa3) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k)
              (i32.add (local.get $pc0) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pc1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc2) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pc3) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $init) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (local.get $post)
              (i32.add (local.get $pg0) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pg1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pg2) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pg3) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $wide)))
        (if (i32.le_u (i32.add (local.get $j) (i32.const 4)) (local.get $n))
          (then
            (call $block4x4
              (local.get $pa0) (local.get $pa1) (local.get $pa2) (local.get $pa3) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k)
              (i32.add (local.get $pc0) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pc1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc2) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pc3) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $init) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (local.get $post)
              (i32.add (local.get $pg0) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pg1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pg2) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pg3) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))))
        (block $narrowDone
          (loop $narrow
            (br_if $narrowDone (i32.ge_u (local.get $j) (local.get $n)))
            (call $block4x1
              (local.get $pa0) (local.get $pa1) (local.get $pa2) (local.get $pa3) (local.get $sak)
              (i32.add (local.get $b) (i32.shl (local.get $j) (i32.const 2))) (local.get $ldb) (local.get $k)
              (i32.add (local.get $pc0) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pc1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pc2) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pc3) (i32.shl (local.get $j) (i32.const 2)))
              (local.get $init) (i32.add (local.get $bias) (i32.shl (local.get $j) (i32.const 2))) (local.get $post)
              (i32.add (local.get $pg0) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pg1) (i32.shl (local.get $j) (i32.const 2)))
              (i32.add (local.get $pg2) (i32.shl (local.get $j) (i32.const 2))) (i32.add (local.get $pg3) (i32.shl (local.get $j) (i32.const 2))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $narrow)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $rowBlock))))

  ;; dst[j] = sum_i src[i * ld + j] for j < n, i < m.
  (func (export "colsum") (param $m i32) (param $n i32) (param $src i32) (param $ld i32) (param $dst i32)
    (local $j i32) (local $p i32) (local $i i32) (local $v v128) (local $s f32)
    (local.set $ld (i32.shl (local.get $ld) (i32.const 2)))
    (block $wideDone
      (loop $wide
        (br_if $wideDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $n)))
        (local.set $v (v128.const f32x4 0 0 0 0))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (local.get $m))
        (block $done
          (loop $row
            (br_if $done (i32.eqz (local.get $i)))
            (local.set $v (f32x4.add (local.get $v) (v128.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $ld)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $row)))
        (v128.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2))) (local.get $v))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $wide)))
    (block $narrowDone
      (loop $narrow
        (br_if $narrowDone (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $s (f32.const 0))
        (local.set $p (i32.add (local.get $src) (i32.shl (local.get $j) (i32.const 2))))
        (local.set $i (local.get $m))
        (block $done
          (loop $row
            (br_if $done (i32.eqz (local.get $i)))
            (local.set $s (f32.add (local.get $s) (f32.load (local.get $p))))
            (local.set $p (i32.add (local.get $p) (local.get $ld)))
            (local.set $i (i32.sub (local.get $i) (i32.const 1)))
            (br $row)))
        (f32.store (i32.add (local.get $dst) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $narrow))))

  ;; Row r of dst (width floats) = row idx[r] of src, for r < count; idx is u32 at `idx`.
  (func (export "gather") (param $idx i32) (param $count i32) (param $width i32) (param $src i32) (param $dst i32)
    (local $bytes i32)
    (local.set $bytes (i32.shl (local.get $width) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $count)))
        (memory.copy
          (local.get $dst)
          (i32.add (local.get $src) (i32.mul (i32.load (local.get $idx)) (local.get $bytes)))
          (local.get $bytes))
        (local.set $dst (i32.add (local.get $dst) (local.get $bytes)))
        (local.set $idx (i32.add (local.get $idx) (i32.const 4)))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br $row))))

  ;; Adam on `count` parameters (a multiple of 4) at w with gradients g and moments m, v:
  ;;   g' = g + decay * w;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;  w -= step * m / (sqrt(v) + eps)
  (func (export "adam") (param $count i32) (param $w i32) (param $g i32) (param $m i32) (param $v i32)
    (param $decay f32) (param $step f32) (param $b1 f32) (param $b2 f32) (param $eps f32)
    (local $gv v128) (local $mv v128) (local $vv v128)
    (local $decay4 v128) (local $step4 v128) (local $b14 v128) (local $c14 v128) (local $b24 v128) (local $c24 v128) (local $eps4 v128)
    (local.set $decay4 (f32x4.splat (local.get $decay)))
    (local.set $step4 (f32x4.splat (local.get $step)))
    (local.set $b14 (f32x4.splat (local.get $b1)))
    (local.set $c14 (f32x4.splat (f32.sub (f32.const 1) (local.get $b1))))
    (local.set $b24 (f32x4.splat (local.get $b2)))
    (local.set $c24 (f32x4.splat (f32.sub (f32.const 1) (local.get $b2))))
    (local.set $eps4 (f32x4.splat (local.get $eps)))
    (block $done
      (loop $quad
        (br_if $done (i32.le_s (local.get $count) (i32.const 0)))
        (local.set $gv (f32x4.add (v128.load (local.get $g)) (f32x4.mul (local.get $decay4) (v128.load (local.get $w)))))
        (local.set $mv (f32x4.add (f32x4.mul (local.get $b14) (v128.load (local.get $m))) (f32x4.mul (local.get $c14) (local.get $gv))))
        (local.set $vv (f32x4.add (f32x4.mul (local.get $b24) (v128.load (local.get $v)))
                                  (f32x4.mul (local.get $c24) (f32x4.mul (local.get $gv) (local.get $gv)))))
        (v128.store (local.get $m) (local.get $mv))
        (v128.store (local.get $v) (local.get $vv))
        (v128.store (local.get $w)
          (f32x4.sub (v128.load (local.get $w))
            (f32x4.div (f32x4.mul (local.get $step4) (local.get $mv)) (f32x4.add (f32x4.sqrt (local.get $vv)) (local.get $eps4)))))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $m (i32.add (local.get $m) (i32.const 16)))
        (local.set $v (i32.add (local.get $v) (i32.const 16)))
        (local.set $count (i32.sub (local.get $count) (i32.const 4)))
        (br $quad))))

  ;; SGD with momentum on `count` parameters (a multiple of 4):  vel = mu vel - lr (g + decay w);  w += vel
  (func (export "sgd") (param $count i32) (param $w i32) (param $g i32) (param $vel i32)
    (param $decay f32) (param $lr f32) (param $mu f32)
    (local $vv v128) (local $decay4 v128) (local $lr4 v128) (local $mu4 v128)
    (local.set $decay4 (f32x4.splat (local.get $decay)))
    (local.set $lr4 (f32x4.splat (local.get $lr)))
    (local.set $mu4 (f32x4.splat (local.get $mu)))
    (block $done
      (loop $quad
        (br_if $done (i32.le_s (local.get $count) (i32.const 0)))
        (local.set $vv
          (f32x4.sub (f32x4.mul (local.get $mu4) (v128.load (local.get $vel)))
            (f32x4.mul (local.get $lr4) (f32x4.add (v128.load (local.get $g)) (f32x4.mul (local.get $decay4) (v128.load (local.get $w)))))))
        (v128.store (local.get $vel) (local.get $vv))
        (v128.store (local.get $w) (f32x4.add (v128.load (local.get $w)) (local.get $vv)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (local.set $g (i32.add (local.get $g) (i32.const 16)))
        (local.set $vel (i32.add (local.get $vel) (i32.const 16)))
        (local.set $count (i32.sub (local.get $count) (i32.const 4)))
        (br $quad))))

  ;; e^x in single precision (Cephes expf: range reduction by ln 2, degree-5 polynomial; within
  ;; 2 ulp of the exact value on [-87, 88]). Below -87 it returns 0; NaN gives NaN (never a trap:
  ;; the saturating conversion), so a diverged network still reaches the NaN-loss check.
  (func $expf (param $x f32) (result f32)
    (local $n f32) (local $r f32) (local $p f32)
    (if (f32.lt (local.get $x) (f32.const -87)) (then (return (f32.const 0))))
    (local.set $x (f32.min (local.get $x) (f32.const 88)))
    (local.set $n (f32.nearest (f32.mul (local.get $x) (f32.const 1.44269504088896341))))
    (local.set $r
      (f32.sub (f32.sub (local.get $x) (f32.mul (local.get $n) (f32.const 0.693359375)))
               (f32.mul (local.get $n) (f32.const -2.12194440e-4))))
    (local.set $p (f32.const 1.9875691500e-4))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 1.3981999507e-3)))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 8.3334519073e-3)))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 4.1665795894e-2)))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 1.6666665459e-1)))
    (local.set $p (f32.add (f32.mul (local.get $p) (local.get $r)) (f32.const 5.0000001201e-1)))
    (local.set $p
      (f32.add (f32.add (f32.mul (local.get $p) (f32.mul (local.get $r) (local.get $r))) (local.get $r)) (f32.const 1)))
    (f32.mul (local.get $p)
      (f32.reinterpret_i32 (i32.shl (i32.add (i32.trunc_sat_f32_s (local.get $n)) (i32.const 127)) (i32.const 23)))))

  (func (export "expf") (param $x f32) (result f32) (call $expf (local.get $x)))

  ;; Softmax of `rows` rows of c logits (row stride `stride`) at z: dst row i = softmax(z row i) * scale;
  ;; rowMax[i] and rowSum[i] get the row's max logit and sum of e^(z - max) (for the log-loss).
  (func (export "softmax") (param $rows i32) (param $c i32) (param $stride i32) (param $z i32) (param $dst i32)
    (param $scale f32) (param $rowMax i32) (param $rowSum i32)
    (local $j i32) (local $max f32) (local $sum f32) (local $e f32) (local $end i32) (local $f f32)
    (local.set $stride (i32.shl (local.get $stride) (i32.const 2)))
    (block $done
      (loop $row
        (br_if $done (i32.eqz (local.get $rows)))
        (local.set $end (i32.add (local.get $z) (i32.shl (local.get $c) (i32.const 2))))
        (local.set $max (f32.const -inf))
        (local.set $j (local.get $z))
        (block $maxDone
          (loop $maxLoop
            (br_if $maxDone (i32.ge_u (local.get $j) (local.get $end)))
            (local.set $max (f32.max (local.get $max) (f32.load (local.get $j))))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $maxLoop)))
        (local.set $sum (f32.const 0))
        (local.set $j (i32.const 0))
        (block $expDone
          (loop $expLoop
            (br_if $expDone (i32.ge_u (local.get $j) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $e (call $expf (f32.sub (f32.load (i32.add (local.get $z) (local.get $j))) (local.get $max))))
            (f32.store (i32.add (local.get $dst) (local.get $j)) (local.get $e))
            (local.set $sum (f32.add (local.get $sum) (local.get $e)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $expLoop)))
        (local.set $f (f32.div (local.get $scale) (local.get $sum)))
        (local.set $j (i32.const 0))
        (block $scaleDone
          (loop $scaleLoop
            (br_if $scaleDone (i32.ge_u (local.get $j) (i32.shl (local.get $c) (i32.const 2))))
            (f32.store (i32.add (local.get $dst) (local.get $j))
              (f32.mul (f32.load (i32.add (local.get $dst) (local.get $j))) (local.get $f)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $scaleLoop)))
        (f32.store (local.get $rowMax) (local.get $max))
        (f32.store (local.get $rowSum) (local.get $sum))
        (local.set $rowMax (i32.add (local.get $rowMax) (i32.const 4)))
        (local.set $rowSum (i32.add (local.get $rowSum) (i32.const 4)))
        (local.set $z (i32.add (local.get $z) (local.get $stride)))
        (local.set $dst (i32.add (local.get $dst) (local.get $stride)))
        (local.set $rows (i32.sub (local.get $rows) (i32.const 1)))
        (br $row))))
)
