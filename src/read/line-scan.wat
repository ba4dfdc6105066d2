;; The line-feed scan of line-endings.ts (scanLineEnds), sixteen bytes at a time, for bytes that
;; lie in this module's memory (a worker's reused read buffer, see line-scan.ts).
;;
;; In JavaScript the scan is one memchr call per line; the bench dump has 4.7 million lines, and
;; at 27 ns a call the calls cost more than the search. This answers the same two questions in
;; one pass over the bytes, 6-7 times faster.
;;
;; scan(ptr, len) looks at [ptr, ptr + len) and returns
;;   1 when some line feed is not preceded by a carriage return inside the range (a bare LF; a
;;     line feed at ptr itself counts as bare, as in scanLineEnds),
;;   2 when there is no bare LF but some line feed has a space, a tab or a carriage return two
;;     bytes before it (a CRLF after " ", "\t" or "\r"),
;;   0 otherwise.
;;
;; crlf(src, len, dst) copies [src, src + len) to dst with a carriage return put before every
;; bare line feed (a line feed at src itself counts as bare), and returns the bytes written: what
;; toCrlf makes, sixteen bytes at a time where they hold no line feed. In JavaScript it was two
;; memchr calls and a copy per line. dst must not overlap the source, and have room for 2 * len.
;;
;; blanks(ptr, len) looks at [ptr, ptr + len) and returns the sum of
;;   1 when it holds a tab,
;;   2 when it holds two spaces in a row,
;;   4 when it holds a carriage return that no line feed follows inside the range (a CR that
;;     does not end a line; a CR at the last byte counts),
;; what relaxed canonicalization and the body fingerprint ask of a body (message-traits.ts,
;; mailauth-fast-paths.ts): in JavaScript the search for two spaces runs at about 1 ns a byte on
;; text, where single spaces are every few bytes, and the one for CRs that end no line is a
;; call per line.
;;
;; The compiled bytes are in line-scan.ts; tests/read/line-scan.test.ts compiles this file again
;; and checks that they are the same, and checks the answers against scanLineEnds and toCrlf.
(module
  (import "env" "memory" (memory 1))

  ;; one byte at a time: the first sixteen bytes (whose neighbours before may lie outside the
  ;; range) and the last fifteen or fewer
  (func $scalar (param $ptr i32) (param $from i32) (param $to i32) (result i32)
    (local $i i32) (local $flags i32) (local $before i32)
    (local.set $i (local.get $from))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
        (if (i32.eq (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (i32.const 10))
          (then
            (if (i32.eqz (local.get $i)) (then (return (i32.const 1))))
            (if (i32.ne (i32.load8_u (i32.sub (i32.add (local.get $ptr) (local.get $i)) (i32.const 1))) (i32.const 13))
              (then (return (i32.const 1))))
            (if (i32.ge_u (local.get $i) (i32.const 2))
              (then
                (local.set $before (i32.load8_u (i32.sub (i32.add (local.get $ptr) (local.get $i)) (i32.const 2))))
                (if (i32.or (i32.or (i32.eq (local.get $before) (i32.const 32)) (i32.eq (local.get $before) (i32.const 9)))
                            (i32.eq (local.get $before) (i32.const 13)))
                  (then (local.set $flags (i32.const 2))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $flags))

  (func (export "scan") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $last i32) (local $at i32) (local $flags i32)
    (local $lf v128) (local $before v128) (local $dirty v128)
    (if (i32.le_u (local.get $len) (i32.const 32))
      (then (return (call $scalar (local.get $ptr) (i32.const 0) (local.get $len)))))
    (local.set $flags (call $scalar (local.get $ptr) (i32.const 0) (i32.const 16)))
    (if (i32.and (local.get $flags) (i32.const 1)) (then (return (i32.const 1))))
    ;; from byte 16 on, the two bytes before every lane are inside the range
    (local.set $i (i32.const 16))
    (local.set $last (i32.sub (local.get $len) (i32.const 16)))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (local.get $i) (local.get $last)))
        (local.set $at (i32.add (local.get $ptr) (local.get $i)))
        (local.set $lf (i8x16.eq (v128.load (local.get $at)) (i8x16.splat (i32.const 10))))
        (if (v128.any_true (local.get $lf))
          (then
            ;; a line feed whose byte before is not CR
            (local.set $before (v128.load (i32.sub (local.get $at) (i32.const 1))))
            (if (v128.any_true (v128.andnot (local.get $lf) (i8x16.eq (local.get $before) (i8x16.splat (i32.const 13)))))
              (then (return (i32.const 1))))
            ;; a line feed two bytes after a space, a tab or a CR
            (local.set $before (v128.load (i32.sub (local.get $at) (i32.const 2))))
            (local.set $dirty
              (v128.or (local.get $dirty)
                (v128.and (local.get $lf)
                  (v128.or
                    (v128.or (i8x16.eq (local.get $before) (i8x16.splat (i32.const 32)))
                             (i8x16.eq (local.get $before) (i8x16.splat (i32.const 9))))
                    (i8x16.eq (local.get $before) (i8x16.splat (i32.const 13)))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (if (v128.any_true (local.get $dirty)) (then (local.set $flags (i32.const 2))))
    (local.set $at (call $scalar (local.get $ptr) (local.get $i) (local.get $len)))
    (if (i32.and (local.get $at) (i32.const 1)) (then (return (i32.const 1))))
    (i32.or (local.get $flags) (local.get $at)))

  ;; blanks() one byte at a time over [from, to); the byte at `to`, when inside the range, is read
  (func $blanksScalar (param $ptr i32) (param $from i32) (param $to i32) (param $len i32) (result i32)
    (local $i i32) (local $b i32) (local $flags i32)
    (local.set $i (local.get $from))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
        (local.set $b (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
        (if (i32.eq (local.get $b) (i32.const 9)) (then (local.set $flags (i32.or (local.get $flags) (i32.const 1)))))
        (if (i32.eq (local.get $b) (i32.const 32))
          (then
            (if (i32.lt_u (i32.add (local.get $i) (i32.const 1)) (local.get $len))
              (then
                (if (i32.eq (i32.load8_u (i32.add (i32.add (local.get $ptr) (local.get $i)) (i32.const 1))) (i32.const 32))
                  (then (local.set $flags (i32.or (local.get $flags) (i32.const 2)))))))))
        (if (i32.eq (local.get $b) (i32.const 13))
          (then
            (if (i32.ge_u (i32.add (local.get $i) (i32.const 1)) (local.get $len))
              (then (local.set $flags (i32.or (local.get $flags) (i32.const 4))))
              (else
                (if (i32.ne (i32.load8_u (i32.add (i32.add (local.get $ptr) (local.get $i)) (i32.const 1))) (i32.const 10))
                  (then (local.set $flags (i32.or (local.get $flags) (i32.const 4)))))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $flags))

  (func (export "blanks") (param $ptr i32) (param $len i32) (result i32)
    (local $i i32) (local $at i32) (local $v v128) (local $n v128)
    (local $tab v128) (local $pair v128) (local $cr v128)
    ;; sixteen bytes at a time while the byte after them is inside the range
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 17)) (local.get $len)))
        (local.set $at (i32.add (local.get $ptr) (local.get $i)))
        (local.set $v (v128.load (local.get $at)))
        (local.set $n (v128.load (i32.add (local.get $at) (i32.const 1))))
        (local.set $tab (v128.or (local.get $tab) (i8x16.eq (local.get $v) (i8x16.splat (i32.const 9)))))
        (local.set $pair
          (v128.or (local.get $pair)
            (v128.and (i8x16.eq (local.get $v) (i8x16.splat (i32.const 32))) (i8x16.eq (local.get $n) (i8x16.splat (i32.const 32))))))
        (local.set $cr
          (v128.or (local.get $cr)
            (v128.andnot (i8x16.eq (local.get $v) (i8x16.splat (i32.const 13))) (i8x16.eq (local.get $n) (i8x16.splat (i32.const 10))))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (i32.or
      (i32.or
        (i32.or (select (i32.const 1) (i32.const 0) (v128.any_true (local.get $tab)))
                (select (i32.const 2) (i32.const 0) (v128.any_true (local.get $pair))))
        (select (i32.const 4) (i32.const 0) (v128.any_true (local.get $cr))))
      (call $blanksScalar (local.get $ptr) (local.get $i) (local.get $len) (local.get $len))))

  ;; bytes [from, to) of src to dst + j one at a time, a CR before every bare LF; returns the new j
  (func $crlfBytes (param $src i32) (param $from i32) (param $to i32) (param $dst i32) (param $j i32) (result i32)
    (local $i i32) (local $b i32)
    (local.set $i (local.get $from))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $to)))
        (local.set $b (i32.load8_u (i32.add (local.get $src) (local.get $i))))
        (if (i32.eq (local.get $b) (i32.const 10))
          (then
            (if (i32.eqz (local.get $i))
              (then
                (i32.store8 (i32.add (local.get $dst) (local.get $j)) (i32.const 13))
                (local.set $j (i32.add (local.get $j) (i32.const 1))))
              (else
                (if (i32.ne (i32.load8_u (i32.sub (i32.add (local.get $src) (local.get $i)) (i32.const 1))) (i32.const 13))
                  (then
                    (i32.store8 (i32.add (local.get $dst) (local.get $j)) (i32.const 13))
                    (local.set $j (i32.add (local.get $j) (i32.const 1)))))))))
        (i32.store8 (i32.add (local.get $dst) (local.get $j)) (local.get $b))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $j))

  (func (export "crlf") (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (local $i i32) (local $j i32) (local $v v128)
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $len)))
        (local.set $v (v128.load (i32.add (local.get $src) (local.get $i))))
        (if (v128.any_true (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10))))
          (then
            (local.set $j (call $crlfBytes (local.get $src) (local.get $i) (i32.add (local.get $i) (i32.const 16)) (local.get $dst) (local.get $j))))
          (else
            (v128.store (i32.add (local.get $dst) (local.get $j)) (local.get $v))
            (local.set $j (i32.add (local.get $j) (i32.const 16)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (call $crlfBytes (local.get $src) (local.get $i) (local.get $len) (local.get $dst) (local.get $j)))
)
