;; The hmf runtime's sparse matrix product, y = x K, with K in compressed sparse columns
;; (CSC: for output j, the entries colStart[j] .. colStart[j+1] of rows / vals). WebAssembly
;; 128-bit SIMD; compiled into src/runtime/sparseWasm.ts by scripts/build-sparse-wasm.ts
;; (wat2wasm from Debian's wabt). Every pointer is a byte offset into the exported memory;
;; colStart and rows hold i32, vals, x and y f32.
(module
  (memory (export "memory") 1)

  ;; One input row: y[j] = sum_p x[rows[p]] * vals[p]. Four entries at a time: their four x
  ;; values gathered into one vector, multiplied by four consecutive vals.
  (func (export "spmv")
    (param $colStart i32) (param $rows i32) (param $vals i32) (param $m i32) (param $x i32) (param $y i32)
    (local $j i32) (local $p i32) (local $end i32) (local $end4 i32) (local $r i32)
    (local $acc v128) (local $v v128) (local $s f32)
    (block $done
      (loop $column
        (br_if $done (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $p (i32.load (i32.add (local.get $colStart) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $colStart) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $end4 (i32.sub (local.get $end) (i32.and (i32.sub (local.get $end) (local.get $p)) (i32.const 3))))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $p) (local.get $end4)))
            (local.set $r (i32.add (local.get $rows) (i32.shl (local.get $p) (i32.const 2))))
            (local.set $v (v128.load32_zero (i32.add (local.get $x) (i32.shl (i32.load (local.get $r)) (i32.const 2)))))
            (local.set $v (v128.load32_lane 1 (i32.add (local.get $x) (i32.shl (i32.load offset=4 (local.get $r)) (i32.const 2))) (local.get $v)))
            (local.set $v (v128.load32_lane 2 (i32.add (local.get $x) (i32.shl (i32.load offset=8 (local.get $r)) (i32.const 2))) (local.get $v)))
            (local.set $v (v128.load32_lane 3 (i32.add (local.get $x) (i32.shl (i32.load offset=12 (local.get $r)) (i32.const 2))) (local.get $v)))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul (local.get $v) (v128.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 4)))
            (br $quads)))
        (local.set $s
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $p) (local.get $end)))
            (local.set $s
              (f32.add (local.get $s)
                (f32.mul
                  (f32.load (i32.add (local.get $x) (i32.shl (i32.load (i32.add (local.get $rows) (i32.shl (local.get $p) (i32.const 2)))) (i32.const 2))))
                  (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br $tail)))
        (f32.store (i32.add (local.get $y) (i32.shl (local.get $j) (i32.const 2))) (local.get $s))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $column))))

  ;; Several input rows, batch-inner: xT is x transposed (n rows of $bp floats, $bp a multiple
  ;; of 4), yT likewise (m rows). yT[j][:] = sum_p vals[p] * xT[rows[p]][:], 32 batch lanes
  ;; at a time in eight vector accumulators, then four at a time.
  (func (export "spmm")
    (param $colStart i32) (param $rows i32) (param $vals i32) (param $m i32) (param $xT i32) (param $yT i32) (param $bp i32)
    (local $j i32) (local $p i32) (local $start i32) (local $end i32) (local $stride i32) (local $c i32) (local $yrow i32) (local $xa i32)
    (local $v v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local.set $stride (i32.shl (local.get $bp) (i32.const 2)))
    (block $done
      (loop $column
        (br_if $done (i32.ge_u (local.get $j) (local.get $m)))
        (local.set $start (i32.load (i32.add (local.get $colStart) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $end (i32.load offset=4 (i32.add (local.get $colStart) (i32.shl (local.get $j) (i32.const 2)))))
        (local.set $yrow (i32.add (local.get $yT) (i32.mul (local.get $j) (local.get $stride))))
        (local.set $c (i32.const 0))
        ;; Chunks of 32 lanes (128 bytes).
        (block $chunks_done
          (loop $chunks
            (br_if $chunks_done (i32.gt_u (i32.add (local.get $c) (i32.const 128)) (local.get $stride)))
            (local.set $a0 (v128.const f32x4 0 0 0 0))
            (local.set $a1 (v128.const f32x4 0 0 0 0))
            (local.set $a2 (v128.const f32x4 0 0 0 0))
            (local.set $a3 (v128.const f32x4 0 0 0 0))
            (local.set $a4 (v128.const f32x4 0 0 0 0))
            (local.set $a5 (v128.const f32x4 0 0 0 0))
            (local.set $a6 (v128.const f32x4 0 0 0 0))
            (local.set $a7 (v128.const f32x4 0 0 0 0))
            (local.set $p (local.get $start))
            (block $entries_done
              (loop $entries
                (br_if $entries_done (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $v (f32x4.splat (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))))
                (local.set $xa
                  (i32.add (i32.add (local.get $xT) (local.get $c))
                    (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $p) (i32.const 2)))) (local.get $stride))))
                (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $v) (v128.load (local.get $xa)))))
                (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $v) (v128.load offset=16 (local.get $xa)))))
                (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $v) (v128.load offset=32 (local.get $xa)))))
                (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $v) (v128.load offset=48 (local.get $xa)))))
                (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $v) (v128.load offset=64 (local.get $xa)))))
                (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $v) (v128.load offset=80 (local.get $xa)))))
                (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $v) (v128.load offset=96 (local.get $xa)))))
                (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $v) (v128.load offset=112 (local.get $xa)))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $entries)))
            (local.set $xa (i32.add (local.get $yrow) (local.get $c)))
            (v128.store (local.get $xa) (local.get $a0))
            (v128.store offset=16 (local.get $xa) (local.get $a1))
            (v128.store offset=32 (local.get $xa) (local.get $a2))
            (v128.store offset=48 (local.get $xa) (local.get $a3))
            (v128.store offset=64 (local.get $xa) (local.get $a4))
            (v128.store offset=80 (local.get $xa) (local.get $a5))
            (v128.store offset=96 (local.get $xa) (local.get $a6))
            (v128.store offset=112 (local.get $xa) (local.get $a7))
            (local.set $c (i32.add (local.get $c) (i32.const 128)))
            (br $chunks)))
        ;; The remaining lanes, four at a time.
        (block $quads_done
          (loop $quads
            (br_if $quads_done (i32.ge_u (local.get $c) (local.get $stride)))
            (local.set $a0 (v128.const f32x4 0 0 0 0))
            (local.set $p (local.get $start))
            (block $entries4_done
              (loop $entries4
                (br_if $entries4_done (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $a0
                  (f32x4.add (local.get $a0)
                    (f32x4.mul
                      (f32x4.splat (f32.load (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))))
                      (v128.load
                        (i32.add (i32.add (local.get $xT) (local.get $c))
                          (i32.mul (i32.load (i32.add (local.get $rows) (i32.shl (local.get $p) (i32.const 2)))) (local.get $stride)))))))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $entries4)))
            (v128.store (i32.add (local.get $yrow) (local.get $c)) (local.get $a0))
            (local.set $c (i32.add (local.get $c) (i32.const 16)))
            (br $quads)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $column)))))
