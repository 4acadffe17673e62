;; WebAssembly SIMD kernels for the CNN (src/core/train/cnn): the passes around the matrix multiplies
;; of a 3×3 convolution (im2col and its adjoint col2im), 2×2 max-pooling forward and backward, and a
;; vector add (summing the two threads' gradients). Images are NHWC: pixel (y, x) of image i holds its
;; c channels at ((i * h + y) * w + x) * c.
;;
;; Pointers are byte offsets into the imported (shared) memory; sizes and counts are in floats.
;; Channel counts of the pooling, col2im and add kernels are multiples of 4 (the CNN pads its layers).
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; col[(i, y, x), (ky, kx, ch)] = x[i, y + ky - 1, x + kx - 1, ch], 0 outside the image (padding 1).
  ;; One row of 9 * c floats per output pixel, rows in (i, y, x) order.
  (func (export "im2col") (param $src i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $col i32)
    (local $i i32) (local $y i32) (local $x i32) (local $ky i32) (local $kx i32)
    (local $sy i32) (local $sx i32) (local $bytes i32) (local $img i32)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (block $doneI (loop $loopI
      (br_if $doneI (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $img (i32.add (local.get $src) (i32.mul (local.get $i) (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $bytes)))))
      (local.set $y (i32.const 0))
      (block $doneY (loop $loopY
        (br_if $doneY (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $x (i32.const 0))
        (block $doneX (loop $loopX
          (br_if $doneX (i32.ge_u (local.get $x) (local.get $w)))
          (local.set $ky (i32.const 0))
          (block $doneKy (loop $loopKy
            (br_if $doneKy (i32.ge_u (local.get $ky) (i32.const 3)))
            (local.set $sy (i32.sub (i32.add (local.get $y) (local.get $ky)) (i32.const 1)))
            (local.set $kx (i32.const 0))
            (block $doneKx (loop $loopKx
              (br_if $doneKx (i32.ge_u (local.get $kx) (i32.const 3)))
              (local.set $sx (i32.sub (i32.add (local.get $x) (local.get $kx)) (i32.const 1)))
              (if (i32.and
                    (i32.lt_u (local.get $sy) (local.get $h))
                    (i32.lt_u (local.get $sx) (local.get $w)))
                (then
                  (if (i32.eq (local.get $bytes) (i32.const 4))
                    (then (f32.store (local.get $col)
                      (f32.load (i32.add (local.get $img)
                        (i32.shl (i32.add (i32.mul (local.get $sy) (local.get $w)) (local.get $sx)) (i32.const 2))))))
                    (else (memory.copy (local.get $col)
                      (i32.add (local.get $img)
                        (i32.mul (i32.add (i32.mul (local.get $sy) (local.get $w)) (local.get $sx)) (local.get $bytes)))
                      (local.get $bytes)))))
                (else (memory.fill (local.get $col) (i32.const 0) (local.get $bytes))))
              (local.set $col (i32.add (local.get $col) (local.get $bytes)))
              (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
              (br $loopKx)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $loopKy)))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br $loopX)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $loopY)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loopI))))

  ;; The adjoint of im2col: dx = 0, then dx[i, y + ky - 1, x + kx - 1, ch] += col[(i, y, x), (ky, kx, ch)]
  ;; for taps inside the image. c a multiple of 4.
  (func (export "col2im") (param $col i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $dst i32)
    (local $i i32) (local $y i32) (local $x i32) (local $ky i32) (local $kx i32)
    (local $sy i32) (local $sx i32) (local $bytes i32) (local $img i32) (local $p i32) (local $q i32) (local $end i32)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $dst) (i32.const 0)
      (i32.mul (i32.mul (local.get $n) (i32.mul (local.get $h) (local.get $w))) (local.get $bytes)))
    (block $doneI (loop $loopI
      (br_if $doneI (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $img (i32.add (local.get $dst) (i32.mul (local.get $i) (i32.mul (i32.mul (local.get $h) (local.get $w)) (local.get $bytes)))))
      (local.set $y (i32.const 0))
      (block $doneY (loop $loopY
        (br_if $doneY (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $x (i32.const 0))
        (block $doneX (loop $loopX
          (br_if $doneX (i32.ge_u (local.get $x) (local.get $w)))
          (local.set $ky (i32.const 0))
          (block $doneKy (loop $loopKy
            (br_if $doneKy (i32.ge_u (local.get $ky) (i32.const 3)))
            (local.set $sy (i32.sub (i32.add (local.get $y) (local.get $ky)) (i32.const 1)))
            (local.set $kx (i32.const 0))
            (block $doneKx (loop $loopKx
              (br_if $doneKx (i32.ge_u (local.get $kx) (i32.const 3)))
              (local.set $sx (i32.sub (i32.add (local.get $x) (local.get $kx)) (i32.const 1)))
              (if (i32.and
                    (i32.lt_u (local.get $sy) (local.get $h))
                    (i32.lt_u (local.get $sx) (local.get $w)))
                (then
                  (local.set $p (i32.add (local.get $img)
                    (i32.mul (i32.add (i32.mul (local.get $sy) (local.get $w)) (local.get $sx)) (local.get $bytes))))
                  (local.set $q (local.get $col))
                  (local.set $end (i32.add (local.get $p) (local.get $bytes)))
                  (block $doneC (loop $loopC
                    (br_if $doneC (i32.ge_u (local.get $p) (local.get $end)))
                    (v128.store (local.get $p) (f32x4.add (v128.load (local.get $p)) (v128.load (local.get $q))))
                    (local.set $p (i32.add (local.get $p) (i32.const 16)))
                    (local.set $q (i32.add (local.get $q) (i32.const 16)))
                    (br $loopC)))))
              (local.set $col (i32.add (local.get $col) (local.get $bytes)))
              (local.set $kx (i32.add (local.get $kx) (i32.const 1)))
              (br $loopKx)))
            (local.set $ky (i32.add (local.get $ky) (i32.const 1)))
            (br $loopKy)))
          (local.set $x (i32.add (local.get $x) (i32.const 1)))
          (br $loopX)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $loopY)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loopI))))

  ;; out[i, py, px, ch] = max over the 2×2 window at (2py, 2px); an odd last row or column is dropped.
  (func (export "maxpool") (param $src i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $out i32)
    (local $i i32) (local $py i32) (local $px i32) (local $ph i32) (local $pw i32) (local $bytes i32) (local $row i32)
    (local $p i32) (local $end i32)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (i32.mul (local.get $w) (local.get $bytes)))
    (local.set $ph (i32.shr_u (local.get $h) (i32.const 1)))
    (local.set $pw (i32.shr_u (local.get $w) (i32.const 1)))
    (block $doneI (loop $loopI
      (br_if $doneI (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $py (i32.const 0))
      (block $doneY (loop $loopY
        (br_if $doneY (i32.ge_u (local.get $py) (local.get $ph)))
        (local.set $px (i32.const 0))
        (block $doneX (loop $loopX
          (br_if $doneX (i32.ge_u (local.get $px) (local.get $pw)))
          ;; top-left input of the window
          (local.set $p (i32.add (local.get $src)
            (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $h)) (i32.shl (local.get $py) (i32.const 1))) (local.get $row))
                     (i32.mul (i32.shl (local.get $px) (i32.const 1)) (local.get $bytes)))))
          (local.set $end (i32.add (local.get $p) (local.get $bytes)))
          (block $doneC (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $p) (local.get $end)))
            (v128.store (local.get $out)
              (f32x4.max
                (f32x4.max (v128.load (local.get $p)) (v128.load (i32.add (local.get $p) (local.get $bytes))))
                (f32x4.max (v128.load (i32.add (local.get $p) (local.get $row)))
                           (v128.load (i32.add (i32.add (local.get $p) (local.get $row)) (local.get $bytes))))))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (br $loopC)))
          (local.set $px (i32.add (local.get $px) (i32.const 1)))
          (br $loopX)))
        (local.set $py (i32.add (local.get $py) (i32.const 1)))
        (br $loopY)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loopI))))

  ;; The gradient of maxpool followed back through the relu below it: dx = 0, then each window's
  ;; first input equal to its max (in order top-left, top-right, bottom-left, bottom-right) gets
  ;; dout where that max is > 0 (a relu output of 0 passes no gradient).
  (func (export "maxpoolBack") (param $src i32) (param $out i32) (param $dout i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32) (param $dst i32)
    (local $i i32) (local $py i32) (local $px i32) (local $ph i32) (local $pw i32) (local $bytes i32) (local $row i32)
    (local $p i32) (local $q i32) (local $end i32) (local $m v128) (local $g v128) (local $taken v128) (local $hit v128)
    (local.set $bytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $row (i32.mul (local.get $w) (local.get $bytes)))
    (local.set $ph (i32.shr_u (local.get $h) (i32.const 1)))
    (local.set $pw (i32.shr_u (local.get $w) (i32.const 1)))
    (memory.fill (local.get $dst) (i32.const 0) (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $row)))
    (block $doneI (loop $loopI
      (br_if $doneI (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $py (i32.const 0))
      (block $doneY (loop $loopY
        (br_if $doneY (i32.ge_u (local.get $py) (local.get $ph)))
        (local.set $px (i32.const 0))
        (block $doneX (loop $loopX
          (br_if $doneX (i32.ge_u (local.get $px) (local.get $pw)))
          (local.set $q
            (i32.add (i32.mul (i32.add (i32.mul (local.get $i) (local.get $h)) (i32.shl (local.get $py) (i32.const 1))) (local.get $row))
                     (i32.mul (i32.shl (local.get $px) (i32.const 1)) (local.get $bytes))))
          (local.set $p (i32.add (local.get $src) (local.get $q)))
          (local.set $q (i32.add (local.get $dst) (local.get $q)))
          (local.set $end (i32.add (local.get $p) (local.get $bytes)))
          (block $doneC (loop $loopC
            (br_if $doneC (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $m (v128.load (local.get $out)))
            (local.set $g (v128.and (v128.load (local.get $dout)) (f32x4.gt (local.get $m) (v128.const f32x4 0 0 0 0))))
            (local.set $taken (f32x4.eq (v128.load (local.get $p)) (local.get $m)))
            (v128.store (local.get $q) (v128.and (local.get $g) (local.get $taken)))
            (local.set $hit (v128.andnot (f32x4.eq (v128.load (i32.add (local.get $p) (local.get $bytes))) (local.get $m)) (local.get $taken)))
            (v128.store (i32.add (local.get $q) (local.get $bytes)) (v128.and (local.get $g) (local.get $hit)))
            (local.set $taken (v128.or (local.get $taken) (local.get $hit)))
            (local.set $hit (v128.andnot (f32x4.eq (v128.load (i32.add (local.get $p) (local.get $row))) (local.get $m)) (local.get $taken)))
            (v128.store (i32.add (local.get $q) (local.get $row)) (v128.and (local.get $g) (local.get $hit)))
            (local.set $taken (v128.or (local.get $taken) (local.get $hit)))
            (local.set $hit (v128.andnot
              (f32x4.eq (v128.load (i32.add (i32.add (local.get $p) (local.get $row)) (local.get $bytes))) (local.get $m))
              (local.get $taken)))
            (v128.store (i32.add (i32.add (local.get $q) (local.get $row)) (local.get $bytes)) (v128.and (local.get $g) (local.get $hit)))
            (local.set $p (i32.add (local.get $p) (i32.const 16)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $out (i32.add (local.get $out) (i32.const 16)))
            (local.set $dout (i32.add (local.get $dout) (i32.const 16)))
            (br $loopC)))
          (local.set $px (i32.add (local.get $px) (i32.const 1)))
          (br $loopX)))
        (local.set $py (i32.add (local.get $py) (i32.const 1)))
        (br $loopY)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $loopI))))

  ;; dst[q] += src[q] for q < count (a multiple of 4).
  (func (export "add") (param $dst i32) (param $src i32) (param $count i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $count) (i32.const 2))))
    (block $done (loop $loop
      (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
      (v128.store (local.get $dst) (f32x4.add (v128.load (local.get $dst)) (v128.load (local.get $src))))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (local.set $src (i32.add (local.get $src) (i32.const 16)))
      (br $loop))))
)
