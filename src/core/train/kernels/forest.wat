;; WebAssembly kernel of the GBDT's prediction: the raw scores of a tree ensemble over rows of
;; float32 values, with ONNX Runtime's TreeEnsembleRegressor arithmetic (BRANCH_LEQ on float32, NaN
;; following the node's missing-value direction, each row's leaf values added in float32 in tree
;; order, the base value added last). The twin of GbdtCore.scoresReference in gbdt/model.ts (the
;; fallback and the reference the kernel is tested against); gbdt/forest.ts packs the trees.
;;
;; Pointers are byte offsets into the imported (shared) memory. A tree's nodes are laid out so that
;; the two children of a split are neighbours (left, then right); a node is 16 bytes:
;;   +0  f32  threshold (a leaf: NaN, so that x <= threshold is false)
;;   +4  i32  the column's byte offset in a row (a leaf: 0)
;;   +8  i32  address of the right child (a leaf: its own), the left child's plus 16
;;   +12 i32  1 when a missing value goes left (a leaf: 0)
;; A step is then next = right - 16 * (x <= threshold), and leaves loop to themselves: a walk of the
;; tree's depth steps from the root ends on the row's leaf whatever its depth, branch-free. Leaf
;; values are f32 in a parallel array: the node at address a has its value at valueBias + a / 4.
;; A tree's entry in the table is 16 bytes: root address, depth, score column's byte offset in an
;; output row, padding.
;;
;;   scores(table, nTrees, x, n, rowBytes, out, k, base, valueBias)
;;     out[i * k + c] (f32) = the sum of the leaf values of the trees adding to column c for row i
;;     (the row's values at x + i * rowBytes), plus base[c]; for 0 <= i < n.
;;
;; Rows go in blocks that stay in the cache; within a block tree by tree, eight rows at a time: each
;; walk is a chain of dependent loads, and eight independent chains overlap (four measured the same
;; here: the steps' instructions, not their latency, are the cost). Each row's sum still takes the
;; trees in order. Rows without NaN (checked per call with SIMD) take a walk without the
;; missing-value test, which measured 30% faster; walk and walkNaN differ only in that test.
(module
  (import "env" "memory" (memory 1 65536 shared))

  (func $scores (export "scores")
    (param $table i32) (param $nTrees i32) (param $x i32) (param $n i32) (param $rowBytes i32)
    (param $out i32) (param $k i32) (param $base i32) (param $valueBias i32)
    (local $outRow i32) (local $tEnd i32) (local $o i32) (local $end i32) (local $c i32)
    (local.set $outRow (i32.shl (local.get $k) (i32.const 2)))
    (memory.fill (local.get $out) (i32.const 0) (i32.mul (local.get $n) (local.get $outRow)))
    (local.set $tEnd (i32.add (local.get $table) (i32.shl (local.get $nTrees) (i32.const 4))))
    (if (call $hasNaN (local.get $x) (i32.mul (local.get $n) (local.get $rowBytes)))
      (then (call $walkNaN (local.get $table) (local.get $tEnd) (local.get $x) (local.get $n) (local.get $rowBytes)
        (local.get $out) (local.get $outRow) (local.get $valueBias)))
      (else (call $walk (local.get $table) (local.get $tEnd) (local.get $x) (local.get $n) (local.get $rowBytes)
        (local.get $out) (local.get $outRow) (local.get $valueBias))))
    ;; The base values, last (as TreeEnsembleRegressor adds them).
    (local.set $o (local.get $out))
    (local.set $end (i32.add (local.get $out) (i32.mul (local.get $n) (local.get $outRow))))
    (block $baseDone
      (loop $baseRows
        (br_if $baseDone (i32.ge_u (local.get $o) (local.get $end)))
        (local.set $c (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $c) (local.get $outRow)))
            (f32.store (i32.add (local.get $o) (local.get $c))
              (f32.add (f32.load (i32.add (local.get $o) (local.get $c))) (f32.load (i32.add (local.get $base) (local.get $c)))))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $cols)))
        (local.set $o (i32.add (local.get $o) (local.get $outRow)))
        (br $baseRows))))

  ;; Whether the bytes f32 values at p hold a NaN (four lanes at a time, then the rest one by one).
  (func $hasNaN (param $p i32) (param $bytes i32) (result i32)
    (local $end i32) (local $acc v128)
    (local.set $end (i32.add (local.get $p) (local.get $bytes)))
    (block $lanesDone
      (loop $lanes
        (br_if $lanesDone (i32.gt_u (i32.add (local.get $p) (i32.const 16)) (local.get $end)))
        (local.set $acc (v128.or (local.get $acc) (f32x4.ne (v128.load (local.get $p)) (v128.load (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (br $lanes)))
    (block $restDone
      (loop $rest
        (br_if $restDone (i32.ge_u (local.get $p) (local.get $end)))
        (if (f32.ne (f32.load (local.get $p)) (f32.load (local.get $p))) (then (return (i32.const 1))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (br $rest)))
    (v128.any_true (local.get $acc)))

  (func $walk
    (param $table i32) (param $tEnd i32) (param $x i32) (param $n i32) (param $rowBytes i32)
    (param $out i32) (param $outRow i32) (param $valueBias i32)
    (local $start i32) (local $end i32) (local $tp i32) (local $root i32) (local $depth i32) (local $col i32)
    (local $i i32) (local $s i32) (local $o i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $r4 i32) (local $r5 i32) (local $r6 i32) (local $r7 i32)
    (local $n0 i32) (local $n1 i32) (local $n2 i32) (local $n3 i32) (local $n4 i32) (local $n5 i32) (local $n6 i32) (local $n7 i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $w4 i32) (local $w5 i32) (local $w6 i32) (local $w7 i32)
    (local $x0 f32) (local $x1 f32) (local $x2 f32) (local $x3 f32) (local $x4 f32) (local $x5 f32) (local $x6 f32) (local $x7 f32)
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $start) (local.get $n)))
        (local.set $end (i32.add (local.get $start) (i32.const 64)))
        (if (i32.gt_u (local.get $end) (local.get $n)) (then (local.set $end (local.get $n))))
        (local.set $tp (local.get $table))
        (block $treesDone
          (loop $trees
            (br_if $treesDone (i32.ge_u (local.get $tp) (local.get $tEnd)))
            (local.set $root (i32.load offset=0 (local.get $tp)))
            (local.set $depth (i32.load offset=4 (local.get $tp)))
            (local.set $col (i32.add (local.get $out) (i32.load offset=8 (local.get $tp))))
            (local.set $i (local.get $start))
            (block $groupsDone
              (loop $groups
                (br_if $groupsDone (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $end)))
                (local.set $r0 (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $rowBytes))))
                (local.set $r1 (i32.add (local.get $r0) (local.get $rowBytes)))
                (local.set $r2 (i32.add (local.get $r1) (local.get $rowBytes)))
                (local.set $r3 (i32.add (local.get $r2) (local.get $rowBytes)))
                (local.set $r4 (i32.add (local.get $r3) (local.get $rowBytes)))
                (local.set $r5 (i32.add (local.get $r4) (local.get $rowBytes)))
                (local.set $r6 (i32.add (local.get $r5) (local.get $rowBytes)))
                (local.set $r7 (i32.add (local.get $r6) (local.get $rowBytes)))
                (local.set $n0 (local.get $root))
                (local.set $n1 (local.get $root))
                (local.set $n2 (local.get $root))
                (local.set $n3 (local.get $root))
                (local.set $n4 (local.get $root))
                (local.set $n5 (local.get $root))
                (local.set $n6 (local.get $root))
                (local.set $n7 (local.get $root))
                (local.set $s (local.get $depth))
                (block $walked
                  (loop $walk
                    (br_if $walked (i32.eqz (local.get $s)))
                    (local.set $w0 (i32.load offset=4 (local.get $n0)))
                    (local.set $w1 (i32.load offset=4 (local.get $n1)))
                    (local.set $w2 (i32.load offset=4 (local.get $n2)))
                    (local.set $w3 (i32.load offset=4 (local.get $n3)))
                    (local.set $w4 (i32.load offset=4 (local.get $n4)))
                    (local.set $w5 (i32.load offset=4 (local.get $n5)))
                    (local.set $w6 (i32.load offset=4 (local.get $n6)))
                    (local.set $w7 (i32.load offset=4 (local.get $n7)))
                    (local.set $x0 (f32.load (i32.add (local.get $r0) (local.get $w0))))
                    (local.set $x1 (f32.load (i32.add (local.get $r1) (local.get $w1))))
                    (local.set $x2 (f32.load (i32.add (local.get $r2) (local.get $w2))))
                    (local.set $x3 (f32.load (i32.add (local.get $r3) (local.get $w3))))
                    (local.set $x4 (f32.load (i32.add (local.get $r4) (local.get $w4))))
                    (local.set $x5 (f32.load (i32.add (local.get $r5) (local.get $w5))))
                    (local.set $x6 (f32.load (i32.add (local.get $r6) (local.get $w6))))
                    (local.set $x7 (f32.load (i32.add (local.get $r7) (local.get $w7))))
                    (local.set $n0 (i32.sub (i32.load offset=8 (local.get $n0)) (i32.shl (f32.le (local.get $x0) (f32.load (local.get $n0))) (i32.const 4))))
                    (local.set $n1 (i32.sub (i32.load offset=8 (local.get $n1)) (i32.shl (f32.le (local.get $x1) (f32.load (local.get $n1))) (i32.const 4))))
                    (local.set $n2 (i32.sub (i32.load offset=8 (local.get $n2)) (i32.shl (f32.le (local.get $x2) (f32.load (local.get $n2))) (i32.const 4))))
                    (local.set $n3 (i32.sub (i32.load offset=8 (local.get $n3)) (i32.shl (f32.le (local.get $x3) (f32.load (local.get $n3))) (i32.const 4))))
                    (local.set $n4 (i32.sub (i32.load offset=8 (local.get $n4)) (i32.shl (f32.le (local.get $x4) (f32.load (local.get $n4))) (i32.const 4))))
                    (local.set $n5 (i32.sub (i32.load offset=8 (local.get $n5)) (i32.shl (f32.le (local.get $x5) (f32.load (local.get $n5))) (i32.const 4))))
                    (local.set $n6 (i32.sub (i32.load offset=8 (local.get $n6)) (i32.shl (f32.le (local.get $x6) (f32.load (local.get $n6))) (i32.const 4))))
                    (local.set $n7 (i32.sub (i32.load offset=8 (local.get $n7)) (i32.shl (f32.le (local.get $x7) (f32.load (local.get $n7))) (i32.const 4))))
                    (local.set $s (i32.sub (local.get $s) (i32.const 1)))
                    (br $walk)))
                (local.set $o (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $outRow))))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n0) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n1) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n2) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n3) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n4) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n5) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n6) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n7) (i32.const 2))))))
                (local.set $i (i32.add (local.get $i) (i32.const 8)))
                (br $groups)))
            ;; The block's last rows (fewer than 8), one at a time.
            (block $singlesDone
              (loop $singles
                (br_if $singlesDone (i32.ge_u (local.get $i) (local.get $end)))
                (local.set $r0 (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $rowBytes))))
                (local.set $n0 (local.get $root))
                (local.set $s (local.get $depth))
                (block $walked1
                  (loop $walk1
                    (br_if $walked1 (i32.eqz (local.get $s)))
                    (local.set $w0 (i32.load offset=4 (local.get $n0)))
                    (local.set $x0 (f32.load (i32.add (local.get $r0) (local.get $w0))))
                    (local.set $n0 (i32.sub (i32.load offset=8 (local.get $n0)) (i32.shl (f32.le (local.get $x0) (f32.load (local.get $n0))) (i32.const 4))))
                    (local.set $s (i32.sub (local.get $s) (i32.const 1)))
                    (br $walk1)))
                (local.set $o (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $outRow))))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n0) (i32.const 2))))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $singles)))
            (local.set $tp (i32.add (local.get $tp) (i32.const 16)))
            (br $trees)))
        (local.set $start (local.get $end))
        (br $blocks))))

  (func $walkNaN
    (param $table i32) (param $tEnd i32) (param $x i32) (param $n i32) (param $rowBytes i32)
    (param $out i32) (param $outRow i32) (param $valueBias i32)
    (local $start i32) (local $end i32) (local $tp i32) (local $root i32) (local $depth i32) (local $col i32)
    (local $i i32) (local $s i32) (local $o i32)
    (local $r0 i32) (local $r1 i32) (local $r2 i32) (local $r3 i32) (local $r4 i32) (local $r5 i32) (local $r6 i32) (local $r7 i32)
    (local $n0 i32) (local $n1 i32) (local $n2 i32) (local $n3 i32) (local $n4 i32) (local $n5 i32) (local $n6 i32) (local $n7 i32)
    (local $w0 i32) (local $w1 i32) (local $w2 i32) (local $w3 i32) (local $w4 i32) (local $w5 i32) (local $w6 i32) (local $w7 i32)
    (local $x0 f32) (local $x1 f32) (local $x2 f32) (local $x3 f32) (local $x4 f32) (local $x5 f32) (local $x6 f32) (local $x7 f32)
    (block $blocksDone
      (loop $blocks
        (br_if $blocksDone (i32.ge_u (local.get $start) (local.get $n)))
        (local.set $end (i32.add (local.get $start) (i32.const 64)))
        (if (i32.gt_u (local.get $end) (local.get $n)) (then (local.set $end (local.get $n))))
        (local.set $tp (local.get $table))
        (block $treesDone
          (loop $trees
            (br_if $treesDone (i32.ge_u (local.get $tp) (local.get $tEnd)))
            (local.set $root (i32.load offset=0 (local.get $tp)))
            (local.set $depth (i32.load offset=4 (local.get $tp)))
            (local.set $col (i32.add (local.get $out) (i32.load offset=8 (local.get $tp))))
            (local.set $i (local.get $start))
            (block $groupsDone
              (loop $groups
                (br_if $groupsDone (i32.gt_u (i32.add (local.get $i) (i32.const 8)) (local.get $end)))
                (local.set $r0 (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $rowBytes))))
                (local.set $r1 (i32.add (local.get $r0) (local.get $rowBytes)))
                (local.set $r2 (i32.add (local.get $r1) (local.get $rowBytes)))
                (local.set $r3 (i32.add (local.get $r2) (local.get $rowBytes)))
                (local.set $r4 (i32.add (local.get $r3) (local.get $rowBytes)))
                (local.set $r5 (i32.add (local.get $r4) (local.get $rowBytes)))
                (local.set $r6 (i32.add (local.get $r5) (local.get $rowBytes)))
                (local.set $r7 (i32.add (local.get $r6) (local.get $rowBytes)))
                (local.set $n0 (local.get $root))
                (local.set $n1 (local.get $root))
                (local.set $n2 (local.get $root))
                (local.set $n3 (local.get $root))
                (local.set $n4 (local.get $root))
                (local.set $n5 (local.get $root))
                (local.set $n6 (local.get $root))
                (local.set $n7 (local.get $root))
                (local.set $s (local.get $depth))
                (block $walked
                  (loop $walk
                    (br_if $walked (i32.eqz (local.get $s)))
                    (local.set $w0 (i32.load offset=4 (local.get $n0)))
                    (local.set $w1 (i32.load offset=4 (local.get $n1)))
                    (local.set $w2 (i32.load offset=4 (local.get $n2)))
                    (local.set $w3 (i32.load offset=4 (local.get $n3)))
                    (local.set $w4 (i32.load offset=4 (local.get $n4)))
                    (local.set $w5 (i32.load offset=4 (local.get $n5)))
                    (local.set $w6 (i32.load offset=4 (local.get $n6)))
                    (local.set $w7 (i32.load offset=4 (local.get $n7)))
                    (local.set $x0 (f32.load (i32.add (local.get $r0) (local.get $w0))))
                    (local.set $x1 (f32.load (i32.add (local.get $r1) (local.get $w1))))
                    (local.set $x2 (f32.load (i32.add (local.get $r2) (local.get $w2))))
                    (local.set $x3 (f32.load (i32.add (local.get $r3) (local.get $w3))))
                    (local.set $x4 (f32.load (i32.add (local.get $r4) (local.get $w4))))
                    (local.set $x5 (f32.load (i32.add (local.get $r5) (local.get $w5))))
                    (local.set $x6 (f32.load (i32.add (local.get $r6) (local.get $w6))))
                    (local.set $x7 (f32.load (i32.add (local.get $r7) (local.get $w7))))
                    (local.set $n0 (i32.sub (i32.load offset=8 (local.get $n0)) (i32.shl (i32.or (f32.le (local.get $x0) (f32.load (local.get $n0)))
                        (i32.and (f32.ne (local.get $x0) (local.get $x0)) (i32.load offset=12 (local.get $n0)))) (i32.const 4))))
                    (local.set $n1 (i32.sub (i32.load offset=8 (local.get $n1)) (i32.shl (i32.or (f32.le (local.get $x1) (f32.load (local.get $n1)))
                        (i32.and (f32.ne (local.get $x1) (local.get $x1)) (i32.load offset=12 (local.get $n1)))) (i32.const 4))))
                    (local.set $n2 (i32.sub (i32.load offset=8 (local.get $n2)) (i32.shl (i32.or (f32.le (local.get $x2) (f32.load (local.get $n2)))
                        (i32.and (f32.ne (local.get $x2) (local.get $x2)) (i32.load offset=12 (local.get $n2)))) (i32.const 4))))
                    (local.set $n3 (i32.sub (i32.load offset=8 (local.get $n3)) (i32.shl (i32.or (f32.le (local.get $x3) (f32.load (local.get $n3)))
                        (i32.and (f32.ne (local.get $x3) (local.get $x3)) (i32.load offset=12 (local.get $n3)))) (i32.const 4))))
                    (local.set $n4 (i32.sub (i32.load offset=8 (local.get $n4)) (i32.shl (i32.or (f32.le (local.get $x4) (f32.load (local.get $n4)))
                        (i32.and (f32.ne (local.get $x4) (local.get $x4)) (i32.load offset=12 (local.get $n4)))) (i32.const 4))))
                    (local.set $n5 (i32.sub (i32.load offset=8 (local.get $n5)) (i32.shl (i32.or (f32.le (local.get $x5) (f32.load (local.get $n5)))
                        (i32.and (f32.ne (local.get $x5) (local.get $x5)) (i32.load offset=12 (local.get $n5)))) (i32.const 4))))
                    (local.set $n6 (i32.sub (i32.load offset=8 (local.get $n6)) (i32.shl (i32.or (f32.le (local.get $x6) (f32.load (local.get $n6)))
                        (i32.and (f32.ne (local.get $x6) (local.get $x6)) (i32.load offset=12 (local.get $n6)))) (i32.const 4))))
                    (local.set $n7 (i32.sub (i32.load offset=8 (local.get $n7)) (i32.shl (i32.or (f32.le (local.get $x7) (f32.load (local.get $n7)))
                        (i32.and (f32.ne (local.get $x7) (local.get $x7)) (i32.load offset=12 (local.get $n7)))) (i32.const 4))))
                    (local.set $s (i32.sub (local.get $s) (i32.const 1)))
                    (br $walk)))
                (local.set $o (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $outRow))))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n0) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n1) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n2) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n3) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n4) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n5) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n6) (i32.const 2))))))
                (local.set $o (i32.add (local.get $o) (local.get $outRow)))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n7) (i32.const 2))))))
                (local.set $i (i32.add (local.get $i) (i32.const 8)))
                (br $groups)))
            ;; The block's last rows (fewer than 8), one at a time.
            (block $singlesDone
              (loop $singles
                (br_if $singlesDone (i32.ge_u (local.get $i) (local.get $end)))
                (local.set $r0 (i32.add (local.get $x) (i32.mul (local.get $i) (local.get $rowBytes))))
                (local.set $n0 (local.get $root))
                (local.set $s (local.get $depth))
                (block $walked1
                  (loop $walk1
                    (br_if $walked1 (i32.eqz (local.get $s)))
                    (local.set $w0 (i32.load offset=4 (local.get $n0)))
                    (local.set $x0 (f32.load (i32.add (local.get $r0) (local.get $w0))))
                    (local.set $n0 (i32.sub (i32.load offset=8 (local.get $n0)) (i32.shl (i32.or (f32.le (local.get $x0) (f32.load (local.get $n0)))
                        (i32.and (f32.ne (local.get $x0) (local.get $x0)) (i32.load offset=12 (local.get $n0)))) (i32.const 4))))
                    (local.set $s (i32.sub (local.get $s) (i32.const 1)))
                    (br $walk1)))
                (local.set $o (i32.add (local.get $col) (i32.mul (local.get $i) (local.get $outRow))))
                (f32.store (local.get $o) (f32.add (f32.load (local.get $o)) (f32.load (i32.add (local.get $valueBias) (i32.shr_u (local.get $n0) (i32.const 2))))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $singles)))
            (local.set $tp (i32.add (local.get $tp) (i32.const 16)))
            (br $trees)))
        (local.set $start (local.get $end))
        (br $blocks))))

)
