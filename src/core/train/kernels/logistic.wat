;; WebAssembly SIMD (f64x2) kernels for the data pass of logistic regression (src/core/train/logistic.ts):
;; the logits Z = X·Wᵀ + b and the gradient G += Rᵀ·X, in float64 like the JavaScript pass, over a
;; chunk of rows at a time so that the chunk (widened from float32 once per pass) stays in cache
;; between the two products. The softmax / sigmoid residuals in between stay in JavaScript (Math.exp).
;;
;; Pointers are byte offsets into the imported memory; counts and strides are in elements.
;;
;;   widen(rows, d, src, ld, dst)        dst[i·ld + j] = f64(src[i·d + j]) (float32 source), and 0 for d <= j < ld
;;   logits(rows, pairs, k, x, w, b, z)  z[i·k + c] = b[c] + Σ_j x[i·2pairs + j] · w[c·2pairs + j]
;;   gradient(rows, pairs, k, x, r, g)   g[c·2pairs + j] += Σ_i r[i·k + c] · x[i·2pairs + j]
;;
;; x, w and g rows hold 2·pairs float64 (the feature count rounded up to even, zero-padded). Rows go 4 at
;; a time. In logits a block of fewer than 4 rows repeats its last row (same values to the same place);
;; in gradient the missing rows get a residual of 0. Each dot product sums even and odd j in the two
;; lanes and adds the lanes at the end, so results do not depend on the block a row falls in.
(module
  (import "env" "memory" (memory 1))

  (func (export "widen") (param $rows i32) (param $d i32) (param $src i32) (param $ld i32) (param $dst i32)
    (local $i i32) (local $j i32) (local $v v128)
    (block $done
      (loop $row
        (br_if $done (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $j (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.gt_u (i32.add (local.get $j) (i32.const 4)) (local.get $d)))
            (local.set $v (v128.load (local.get $src)))
            (v128.store (local.get $dst) (f64x2.promote_low_f32x4 (local.get $v)))
            (v128.store offset=16 (local.get $dst)
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $v) (local.get $v))))
            (local.set $src (i32.add (local.get $src) (i32.const 16)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 32)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $j) (local.get $d)))
            (f64.store (local.get $dst) (f64.promote_f32 (f32.load (local.get $src))))
            (local.set $src (i32.add (local.get $src) (i32.const 4)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $tail)))
        (block $padDone
          (loop $pad
            (br_if $padDone (i32.ge_u (local.get $j) (local.get $ld)))
            (f64.store (local.get $dst) (f64.const 0))
            (local.set $dst (i32.add (local.get $dst) (i32.const 8)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $pad)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $row))))

  ;; min(a, b) for non-negative i32.
  (func $min (param $a i32) (param $b i32) (result i32)
    (select (local.get $a) (local.get $b) (i32.lt_u (local.get $a) (local.get $b))))

  (func (export "logits") (param $rows i32) (param $pairs i32) (param $k i32) (param $x i32) (param $w i32) (param $b i32) (param $z i32)
    (local $stride i32) (local $zs i32) (local $last i32) (local $i i32) (local $c i32) (local $p i32) (local $pw i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $z0 i32) (local $z1 i32) (local $z2 i32) (local $z3 i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $wv v128) (local $bc f64)
    (local.set $stride (i32.shl (local.get $pairs) (i32.const 4)))
    (local.set $zs (i32.shl (local.get $k) (i32.const 3)))
    (local.set $last (i32.sub (local.get $rows) (i32.const 1)))
    (block $done
      (loop $block
        (br_if $done (i32.ge_s (local.get $i) (local.get $rows)))
        (local.set $x0 (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $stride))))
        (local.set $x1 (i32.add (local.get $x) (i32.mul (call $min (i32.add (local.get $i) (i32.const 1)) (local.get $last)) (local.get $stride))))
        (local.set $x2 (i32.add (local.get $x) (i32.mul (call $min (i32.add (local.get $i) (i32.const 2)) (local.get $last)) (local.get $stride))))
        (local.set $x3 (i32.add (local.get $x) (i32.mul (call $min (i32.add (local.get $i) (i32.const 3)) (local.get $last)) (local.get $stride))))
        (local.set $z0 (i32.add (local.get $z) (i32.mul (local.get $i) (local.get $zs))))
        (local.set $z1 (i32.add (local.get $z) (i32.mul (call $min (i32.add (local.get $i) (i32.const 1)) (local.get $last)) (local.get $zs))))
        (local.set $z2 (i32.add (local.get $z) (i32.mul (call $min (i32.add (local.get $i) (i32.const 2)) (local.get $last)) (local.get $zs))))
        (local.set $z3 (i32.add (local.get $z) (i32.mul (call $min (i32.add (local.get $i) (i32.const 3)) (local.get $last)) (local.get $zs))))
        (local.set $c (i32.const 0))
        (local.set $pw (local.get $w))
        (block $classesDone
          (loop $class
            (br_if $classesDone (i32.ge_s (local.get $c) (local.get $k)))
            (local.set $a0 (v128.const f64x2 0 0))
            (local.set $a1 (v128.const f64x2 0 0))
            (local.set $a2 (v128.const f64x2 0 0))
            (local.set $a3 (v128.const f64x2 0 0))
            (local.set $p (i32.const 0))
            (block $dotDone
              (loop $dot
                (br_if $dotDone (i32.ge_s (local.get $p) (local.get $stride)))
                (local.set $wv (v128.load (i32.add (local.get $pw) (local.get $p))))
                (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (v128.load (i32.add (local.get $x0) (local.get $p))) (local.get $wv))))
                (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (v128.load (i32.add (local.get $x1) (local.get $p))) (local.get $wv))))
                (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (v128.load (i32.add (local.get $x2) (local.get $p))) (local.get $wv))))
                (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (v128.load (i32.add (local.get $x3) (local.get $p))) (local.get $wv))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (br $dot)))
            (local.set $bc (f64.load (i32.add (local.get $b) (i32.shl (local.get $c) (i32.const 3)))))
            ;; Last row first: when rows repeat, the first row's store is the one that stays (all equal anyway).
            (f64.store (i32.add (local.get $z3) (i32.shl (local.get $c) (i32.const 3)))
              (f64.add (local.get $bc) (f64.add (f64x2.extract_lane 0 (local.get $a3)) (f64x2.extract_lane 1 (local.get $a3)))))
            (f64.store (i32.add (local.get $z2) (i32.shl (local.get $c) (i32.const 3)))
              (f64.add (local.get $bc) (f64.add (f64x2.extract_lane 0 (local.get $a2)) (f64x2.extract_lane 1 (local.get $a2)))))
            (f64.store (i32.add (local.get $z1) (i32.shl (local.get $c) (i32.const 3)))
              (f64.add (local.get $bc) (f64.add (f64x2.extract_lane 0 (local.get $a1)) (f64x2.extract_lane 1 (local.get $a1)))))
            (f64.store (i32.add (local.get $z0) (i32.shl (local.get $c) (i32.const 3)))
              (f64.add (local.get $bc) (f64.add (f64x2.extract_lane 0 (local.get $a0)) (f64x2.extract_lane 1 (local.get $a0)))))
            (local.set $pw (i32.add (local.get $pw) (local.get $stride)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $class)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $block))))

  (func (export "gradient") (param $rows i32) (param $pairs i32) (param $k i32) (param $x i32) (param $r i32) (param $g i32)
    (local $stride i32) (local $zs i32) (local $last i32) (local $i i32) (local $c i32) (local $p i32) (local $pg i32) (local $q i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32)
    (local $has1 i32) (local $has2 i32) (local $has3 i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128)
    (local.set $stride (i32.shl (local.get $pairs) (i32.const 4)))
    (local.set $zs (i32.shl (local.get $k) (i32.const 3)))
    (local.set $last (i32.sub (local.get $rows) (i32.const 1)))
    (block $done
      (loop $block
        (br_if $done (i32.ge_s (local.get $i) (local.get $rows)))
        (local.set $has1 (i32.lt_s (i32.add (local.get $i) (i32.const 1)) (local.get $rows)))
        (local.set $has2 (i32.lt_s (i32.add (local.get $i) (i32.const 2)) (local.get $rows)))
        (local.set $has3 (i32.lt_s (i32.add (local.get $i) (i32.const 3)) (local.get $rows)))
        (local.set $x0 (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $stride))))
        (local.set $x1 (i32.add (local.get $x) (i32.mul (call $min (i32.add (local.get $i) (i32.const 1)) (local.get $last)) (local.get $stride))))
        (local.set $x2 (i32.add (local.get $x) (i32.mul (call $min (i32.add (local.get $i) (i32.const 2)) (local.get $last)) (local.get $stride))))
        (local.set $x3 (i32.add (local.get $x) (i32.mul (call $min (i32.add (local.get $i) (i32.const 3)) (local.get $last)) (local.get $stride))))
        (local.set $r0 (i32.add (local.get $r) (i32.mul (local.get $i) (local.get $zs))))
        (local.set $r1 (i32.add (local.get $r) (i32.mul (call $min (i32.add (local.get $i) (i32.const 1)) (local.get $last)) (local.get $zs))))
        (local.set $r2 (i32.add (local.get $r) (i32.mul (call $min (i32.add (local.get $i) (i32.const 2)) (local.get $last)) (local.get $zs))))
        (local.set $r3 (i32.add (local.get $r) (i32.mul (call $min (i32.add (local.get $i) (i32.const 3)) (local.get $last)) (local.get $zs))))
        (local.set $c (i32.const 0))
        (local.set $pg (local.get $g))
        (block $classesDone
          (loop $class
            (br_if $classesDone (i32.ge_s (local.get $c) (local.get $k)))
            (local.set $q (i32.shl (local.get $c) (i32.const 3)))
            (local.set $s0 (f64x2.splat (f64.load (i32.add (local.get $r0) (local.get $q)))))
            (local.set $s1 (f64x2.splat (select (f64.load (i32.add (local.get $r1) (local.get $q))) (f64.const 0) (local.get $has1))))
            (local.set $s2 (f64x2.splat (select (f64.load (i32.add (local.get $r2) (local.get $q))) (f64.const 0) (local.get $has2))))
            (local.set $s3 (f64x2.splat (select (f64.load (i32.add (local.get $r3) (local.get $q))) (f64.const 0) (local.get $has3))))
            (local.set $p (i32.const 0))
            (block $rowDone
              (loop $axpy
                (br_if $rowDone (i32.ge_s (local.get $p) (local.get $stride)))
                (v128.store (i32.add (local.get $pg) (local.get $p))
                  (f64x2.add
                    (v128.load (i32.add (local.get $pg) (local.get $p)))
                    (f64x2.add
                      (f64x2.add
                        (f64x2.mul (local.get $s0) (v128.load (i32.add (local.get $x0) (local.get $p))))
                        (f64x2.mul (local.get $s1) (v128.load (i32.add (local.get $x1) (local.get $p)))))
                      (f64x2.add
                        (f64x2.mul (local.get $s2) (v128.load (i32.add (local.get $x2) (local.get $p))))
                        (f64x2.mul (local.get $s3) (v128.load (i32.add (local.get $x3) (local.get $p))))))))
                (local.set $p (i32.add (local.get $p) (i32.const 16)))
                (br $axpy)))
            (local.set $pg (i32.add (local.get $pg) (local.get $stride)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $class)))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $block))))
)
