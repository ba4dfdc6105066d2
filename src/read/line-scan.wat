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
;; qp(src, len, dst) decodes quoted-printable text [src, src + len) to dst, to the bytes libqp's
;; decode() gives for all of it, and returns the bytes written (never more than len; dst must not
;; overlap the source). decode() takes three passes over the text as a string: it drops the blanks
;; (spaces and tabs) before a line end (a CR or an LF) or the text's end; then "=" followed by
;; CRLF, LF or the text's end (soft line breaks); then reads each "=" followed by two hex digits
;; as a byte and every other character as itself. The first two are one pass here, and the third
;; a second pass in place; each copies the bytes before the next byte it turns on (a line end, a
;; "="), up to sixteen at once: 1.2 ns a byte on accented text, where one byte in thirteen or so
;; is a "=". In JavaScript (content-decode.ts, the fallback) the first two passes are a search and
;; a copy per line and the third a loop over every byte, 3.5 ns a byte (4.2 in efficiency mode).
;;
;; relax(src, len, dst) writes the relaxed body canonicalization of the complete lines
;; [src, src + len) (each ending in LF; len 0 or more) to dst, as mailauth-fast-paths.ts's
;; pushRelaxedLines does, and returns the bytes written (at most 2 * len; dst must not overlap
;; the source): each line's content (what precedes its LF, less a CR just before the LF) without
;; the blanks at its end and with every other run of blanks one space, then CRLF. The bytes
;; before the next tab, CR, LF or pair of spaces are copied at once, up to sixteen, less a space
;; at their start that continues a run and one at their end that may begin one; the byte it stops
;; at is handled alone. 0.63-0.66 ns a byte on format=flowed text; in JavaScript, where a line
;; with no run is one copy and a line with one a loop over its bytes, 2.3-2.5.
;;
;; norm(src, len, dst) writes the normalised form of the complete lines [src, src + len) that
;; streamed-text.ts's NormalisedTextHash makes for the reader-text fingerprint (each line without
;; the spaces, tabs and CRs after its last content byte, every other run of spaces and tabs one
;; space, then CRLF; a CR between words is kept), from a line's start, and returns the bytes
;; written (at most 2 * len). A line left empty is written only once a line with content follows
;; it in the same call: the blank lines before the first line with content, and those after the
;; last, are left out and counted in the globals lead and trail, for the caller to write once
;; content follows (and never at the text's end). Copied sixteen bytes at a time as relax copies;
;; 1.4 ns a byte with the SHA-256 of what it writes, on format=flowed and quoted-printable text,
;; where the JavaScript (a search and a copy per line, a loop over the bytes of a line with a
;; run) took 3.4.
;;
;; below(ptr, len, limit) returns 1 when every byte of [ptr, ptr + len) is below limit, else 0:
;; UTF-8 with no byte from 0xCC on has no character from U+0300 on, and is its own composed
;; form (message-traits.ts), which it answers without decoding the text.
;;
;; The compiled bytes are in line-scan.ts; tests/read/line-scan.test.ts compiles this file again
;; and checks that they are the same, and checks the answers of scan, crlf, blanks and below
;; against their definitions; tests/attachments/content-decode.test.ts checks qp against libqp,
;; tests/verify/fast-paths.test.ts relax against the JavaScript rewrite and mailauth,
;; tests/read/streamed-text.test.ts norm against the fingerprint's normalising read whole, and
;; tests/read/read-buffer-analysis.test.ts whole analyses in this memory against analyses
;; elsewhere.
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

  ;; qp()'s first two passes: [src, end) to dst; returns where the written bytes end
  (func $qpBreaks (param $src i32) (param $end i32) (param $dst i32) (result i32)
    (local $i i32) (local $w i32) (local $c i32) (local $j i32) (local $v v128) (local $k i32) (local $kept i32)
    ;; where a run of blanks that a line end would drop begins in dst, or -1
    (local $blank i32)
    ;; dst up to here is before the last line end: no "=" there makes a soft line break
    (local $floor i32)
    (local.set $i (local.get $src))
    (local.set $w (local.get $dst))
    (local.set $floor (local.get $dst))
    (local.set $blank (i32.const -1))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            ;; the k bytes before the first line end, at most sixteen, are copied at once (sixteen
            ;; written, k kept: what follows writes over the rest), noting where blanks at their
            ;; end begin
            (local.set $v (v128.load (local.get $i)))
            (local.set $k
              (i32.ctz
                (i32.or
                  (i8x16.bitmask
                    (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10)))
                             (i8x16.eq (local.get $v) (i8x16.splat (i32.const 13)))))
                  (i32.const 0x10000))))
            (if (local.get $k)
              (then
                (v128.store (local.get $w) (local.get $v))
                ;; the bytes of the k that are no blanks
                (local.set $kept
                  (i32.and
                    (i32.xor
                      (i8x16.bitmask
                        (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 32)))
                                 (i8x16.eq (local.get $v) (i8x16.splat (i32.const 9)))))
                      (i32.const 0xffff))
                    (i32.sub (i32.shl (i32.const 1) (local.get $k)) (i32.const 1))))
                (if (local.get $kept)
                  (then
                    ;; the last byte that is no blank is at 31 - clz(kept)
                    (local.set $j (i32.sub (i32.const 31) (i32.clz (local.get $kept))))
                    (if (i32.lt_u (local.get $j) (i32.sub (local.get $k) (i32.const 1)))
                      (then (local.set $blank (i32.add (local.get $w) (i32.add (local.get $j) (i32.const 1)))))
                      (else (local.set $blank (i32.const -1)))))
                  (else
                    (if (i32.eq (local.get $blank) (i32.const -1)) (then (local.set $blank (local.get $w))))))
                (local.set $w (i32.add (local.get $w) (local.get $k)))
                (local.set $i (i32.add (local.get $i) (local.get $k)))
                (br $next)))))
        (local.set $c (i32.load8_u (local.get $i)))
        (if (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
          (then
            (if (i32.eq (local.get $blank) (i32.const -1)) (then (local.set $blank (local.get $w))))
            (i32.store8 (local.get $w) (local.get $c))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (if (i32.and (i32.ne (local.get $c) (i32.const 10)) (i32.ne (local.get $c) (i32.const 13)))
          (then
            (local.set $blank (i32.const -1))
            (i32.store8 (local.get $w) (local.get $c))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        ;; a line end: the blanks before it go
        (if (i32.ne (local.get $blank) (i32.const -1))
          (then
            (local.set $w (local.get $blank))
            (local.set $blank (i32.const -1))))
        (local.set $j (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 13))
          (then
            ;; a CR, blanks and an LF are a CRLF to the second pass: the first took the blanks away
            (block $blanksEnd
              (loop $blanks
                (br_if $blanksEnd (i32.ge_u (local.get $j) (local.get $end)))
                (local.set $c (i32.load8_u (local.get $j)))
                (br_if $blanksEnd (i32.and (i32.ne (local.get $c) (i32.const 32)) (i32.ne (local.get $c) (i32.const 9))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $blanks)))
            (if (i32.or (i32.ge_u (local.get $j) (local.get $end)) (i32.ne (i32.load8_u (local.get $j)) (i32.const 10)))
              (then
                ;; a CR alone: kept (so no "=" before it is a soft line break, nor before the next line end)
                (i32.store8 (local.get $w) (i32.const 13))
                (local.set $w (i32.add (local.get $w) (i32.const 1)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br $next)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))))
        ;; an LF or a CRLF, which ends at j: a soft line break after "=", else kept
        (if (i32.and (i32.gt_u (local.get $w) (local.get $floor))
                     (i32.eq (i32.load8_u (i32.sub (local.get $w) (i32.const 1))) (i32.const 61)))
          (then (local.set $w (i32.sub (local.get $w) (i32.const 1))))
          (else
            (if (i32.eq (i32.load8_u (local.get $i)) (i32.const 13))
              (then
                (i32.store8 (local.get $w) (i32.const 13))
                (local.set $w (i32.add (local.get $w) (i32.const 1)))))
            (i32.store8 (local.get $w) (i32.const 10))
            (local.set $w (i32.add (local.get $w) (i32.const 1)))))
        (local.set $floor (local.get $w))
        (local.set $i (local.get $j))
        (br $next)))
    ;; the text's end: the blanks before it go, and then a "=" before it
    (if (i32.ne (local.get $blank) (i32.const -1)) (then (local.set $w (local.get $blank))))
    (if (i32.and (i32.gt_u (local.get $w) (local.get $floor))
                 (i32.eq (i32.load8_u (i32.sub (local.get $w) (i32.const 1))) (i32.const 61)))
      (then (local.set $w (i32.sub (local.get $w) (i32.const 1)))))
    (local.get $w))

  ;; the value of a hex digit, or 16 or more for any other byte
  ;; (without a branch: the digits of text's escapes, "=C3=A9", are no pattern a predictor learns)
  (func $hexValue (param $c i32) (result i32)
    (local $digit i32) (local $letter i32)
    (local.set $digit (i32.sub (local.get $c) (i32.const 48)))
    (local.set $letter (i32.sub (i32.or (local.get $c) (i32.const 32)) (i32.const 97)))
    (select (local.get $digit)
      (select (i32.add (local.get $letter) (i32.const 10)) (i32.const 255) (i32.lt_u (local.get $letter) (i32.const 6)))
      (i32.lt_u (local.get $digit) (i32.const 10))))

  (func (export "qp") (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (local $r i32) (local $o i32) (local $last i32) (local $c i32) (local $high i32) (local $low i32)
    (local $v v128) (local $k i32)
    (local.set $last (call $qpBreaks (local.get $src) (i32.add (local.get $src) (local.get $len)) (local.get $dst)))
    ;; the third pass, in place: what is written never passes what is read
    (local.set $r (local.get $dst))
    (local.set $o (local.get $dst))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $r) (local.get $last)))
        ;; the k bytes before the first "=", at most sixteen, are copied at once: sixteen are
        ;; written, which may only land on bytes already read (none read yet, or sixteen or more
        ;; behind what is read); k are kept
        (if (i32.and (i32.le_u (i32.add (local.get $r) (i32.const 16)) (local.get $last))
                     (i32.or (i32.eq (local.get $o) (local.get $r))
                             (i32.ge_u (i32.sub (local.get $r) (local.get $o)) (i32.const 16))))
          (then
            (local.set $v (v128.load (local.get $r)))
            (local.set $k
              (i32.ctz (i32.or (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 61)))) (i32.const 0x10000))))
            (if (local.get $k)
              (then
                (v128.store (local.get $o) (local.get $v))
                (local.set $o (i32.add (local.get $o) (local.get $k)))
                (local.set $r (i32.add (local.get $r) (local.get $k)))
                (br $next)))))
        (local.set $c (i32.load8_u (local.get $r)))
        (if (i32.and (i32.eq (local.get $c) (i32.const 61)) (i32.lt_u (i32.add (local.get $r) (i32.const 2)) (local.get $last)))
          (then
            (local.set $high (call $hexValue (i32.load8_u (i32.add (local.get $r) (i32.const 1)))))
            (local.set $low (call $hexValue (i32.load8_u (i32.add (local.get $r) (i32.const 2)))))
            (if (i32.lt_u (i32.or (local.get $high) (local.get $low)) (i32.const 16))
              (then
                (i32.store8 (local.get $o) (i32.or (i32.shl (local.get $high) (i32.const 4)) (local.get $low)))
                (local.set $o (i32.add (local.get $o) (i32.const 1)))
                (local.set $r (i32.add (local.get $r) (i32.const 3)))
                (br $next)))))
        (i32.store8 (local.get $o) (local.get $c))
        (local.set $o (i32.add (local.get $o) (i32.const 1)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $next)))
    (i32.sub (local.get $o) (local.get $dst)))

  ;; where relax and norm stop copying in the sixteen bytes `v` whose spaces are `spaces`: the
  ;; first tab, CR, LF or space followed by a space, 16 when none
  (func $firstStop (param $v v128) (param $spaces i32) (result i32)
    (i32.ctz
      (i32.or
        (i32.or
          (i8x16.bitmask
            (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 9)))
                     (v128.or (i8x16.eq (local.get $v) (i8x16.splat (i32.const 13)))
                              (i8x16.eq (local.get $v) (i8x16.splat (i32.const 10))))))
          (i32.and (local.get $spaces) (i32.shr_u (local.get $spaces) (i32.const 1))))
        (i32.const 0x10000))))

  (func (export "relax") (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (local $i i32) (local $end i32) (local $w i32) (local $c i32) (local $v v128) (local $spaces i32)
    (local $k i32) (local $from i32) (local $to i32) (local $last i32)
    ;; a run of blanks read and not yet written: one space if content follows it on its line
    (local $blank i32)
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (local.set $w (local.get $dst))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            ;; the bytes before the first that needs a look of its own (a tab, a CR, an LF, or the
            ;; first of two spaces), at most sixteen, are copied at once: less a space at the start
            ;; that continues a run, and a space at the end that may begin one (a run is one space
            ;; only where content follows it on its line)
            (local.set $v (v128.load (local.get $i)))
            (local.set $spaces (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 32)))))
            (local.set $k (call $firstStop (local.get $v) (local.get $spaces)))
            (if (local.get $k)
              (then
                (local.set $last (i32.and (i32.shr_u (local.get $spaces) (i32.sub (local.get $k) (i32.const 1))) (i32.const 1)))
                (local.set $from (i32.and (local.get $blank) (local.get $spaces)))
                (local.set $to (i32.sub (local.get $k) (local.get $last)))
                (if (i32.lt_u (local.get $from) (local.get $to))
                  (then
                    (i32.store8 (local.get $w) (i32.const 32))
                    (local.set $w (i32.add (local.get $w) (local.get $blank)))
                    ;; (sixteen bytes written, fewer kept: what follows writes over the rest)
                    (v128.store (local.get $w)
                      (select (v128.load (i32.add (local.get $i) (i32.const 1))) (local.get $v) (local.get $from)))
                    (local.set $w (i32.add (local.get $w) (i32.sub (local.get $to) (local.get $from))))
                    (local.set $blank (local.get $last)))
                  (else (local.set $blank (i32.const 1))))
                (local.set $i (i32.add (local.get $i) (local.get $k)))
                (br $next)))))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        ;; an LF, or a CR just before one: the line ends, and blanks before it go
        (if (i32.or (i32.eq (local.get $c) (i32.const 10))
                    (i32.and (i32.eq (local.get $c) (i32.const 13))
                             (i32.and (i32.lt_u (local.get $i) (local.get $end))
                                      (i32.eq (i32.load8_u (local.get $i)) (i32.const 10)))))
          (then
            (if (i32.eq (local.get $c) (i32.const 13)) (then (local.set $i (i32.add (local.get $i) (i32.const 1)))))
            (local.set $blank (i32.const 0))
            (i32.store16 (local.get $w) (i32.const 0x0a0d))
            (local.set $w (i32.add (local.get $w) (i32.const 2)))
            (br $next)))
        ;; anything else without a branch on it (blanks come every few bytes of text, at no
        ;; pattern a branch predictor can learn): a space kept only where content follows a run
        ;; of blanks, the byte kept unless it is a blank
        (local.set $spaces (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9))))
        (i32.store8 (local.get $w) (i32.const 32))
        (local.set $w (i32.add (local.get $w) (i32.and (local.get $blank) (i32.xor (local.get $spaces) (i32.const 1)))))
        (i32.store8 (local.get $w) (local.get $c))
        (local.set $w (i32.add (local.get $w) (i32.xor (local.get $spaces) (i32.const 1))))
        (local.set $blank (local.get $spaces))
        (br $next)))
    (i32.sub (local.get $w) (local.get $dst)))

  ;; what the last call of norm left out of what it wrote: the blank lines before its first
  ;; line with content (all of its lines when none has), and those after its last
  (global $lead (export "lead") (mut i32) (i32.const 0))
  (global $trail (export "trail") (mut i32) (i32.const 0))

  (func (export "norm") (param $src i32) (param $len i32) (param $dst i32) (result i32)
    (local $i i32) (local $end i32) (local $w i32) (local $c i32) (local $v v128) (local $spaces i32)
    (local $k i32) (local $skip i32) (local $n i32) (local $last i32) (local $blank i32)
    ;; where the current line's output begins, and where it ends after its last content byte
    ;; (what follows that, spaces and CRs, goes if the line ends before more content comes)
    (local $lineStart i32) (local $contentEnd i32)
    ;; a line with content written in this call; a space written that a blank continuing its
    ;; run must not repeat
    (local $seen i32) (local $inRun i32)
    (local $lead i32) (local $trail i32)
    (local.set $i (local.get $src))
    (local.set $end (i32.add (local.get $src) (local.get $len)))
    (local.set $w (local.get $dst))
    (local.set $lineStart (local.get $dst))
    (local.set $contentEnd (local.get $dst))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (if (i32.le_u (i32.add (local.get $i) (i32.const 16)) (local.get $end))
          (then
            ;; the bytes before the first that needs a look of its own (a tab, a CR, an LF, or
            ;; the first of two spaces), at most sixteen, are copied at once, less a space at the
            ;; start that continues a run. No two of them are spaces in a row, so they hold
            ;; content unless they are one space.
            (local.set $v (v128.load (local.get $i)))
            (local.set $spaces (i8x16.bitmask (i8x16.eq (local.get $v) (i8x16.splat (i32.const 32)))))
            (local.set $k (call $firstStop (local.get $v) (local.get $spaces)))
            (if (local.get $k)
              (then
                (local.set $skip (i32.and (local.get $inRun) (local.get $spaces)))
                (local.set $last (i32.and (i32.shr_u (local.get $spaces) (i32.sub (local.get $k) (i32.const 1))) (i32.const 1)))
                ;; (sixteen bytes written, fewer kept: what follows writes over the rest)
                (v128.store (local.get $w)
                  (select (v128.load (i32.add (local.get $i) (i32.const 1))) (local.get $v) (local.get $skip)))
                (local.set $n (i32.sub (local.get $k) (local.get $skip)))
                (local.set $w (i32.add (local.get $w) (local.get $n)))
                (local.set $contentEnd
                  (select (i32.sub (local.get $w) (local.get $last)) (local.get $contentEnd) (i32.gt_u (local.get $n) (local.get $last))))
                (local.set $inRun (local.get $last))
                (local.set $i (i32.add (local.get $i) (local.get $k)))
                (br $next)))))
        (local.set $c (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eq (local.get $c) (i32.const 10))
          (then
            ;; the line ends: the spaces and CRs after its last content byte go; a line left
            ;; empty is written only once a line with content follows it in this call
            (local.set $w (local.get $contentEnd))
            (if (i32.eq (local.get $contentEnd) (local.get $lineStart))
              (then
                (if (local.get $seen)
                  (then
                    (i32.store16 (local.get $w) (i32.const 0x0a0d))
                    (local.set $w (i32.add (local.get $w) (i32.const 2)))
                    (local.set $trail (i32.add (local.get $trail) (i32.const 1))))
                  (else (local.set $lead (i32.add (local.get $lead) (i32.const 1))))))
              (else
                (i32.store16 (local.get $w) (i32.const 0x0a0d))
                (local.set $w (i32.add (local.get $w) (i32.const 2)))
                (local.set $trail (i32.const 0))
                (local.set $seen (i32.const 1))))
            (local.set $lineStart (local.get $w))
            (local.set $contentEnd (local.get $w))
            (local.set $inRun (i32.const 0))
            (br $next)))
        ;; anything else without a branch on it: a blank is a space, written unless it continues
        ;; a run; a CR is written and ends a run; anything else is content
        (local.set $blank (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9))))
        (i32.store8 (local.get $w) (select (i32.const 32) (local.get $c) (local.get $blank)))
        (local.set $w (i32.add (local.get $w) (i32.xor (i32.and (local.get $blank) (local.get $inRun)) (i32.const 1))))
        (local.set $contentEnd
          (select (local.get $contentEnd) (local.get $w) (i32.or (local.get $blank) (i32.eq (local.get $c) (i32.const 13)))))
        (local.set $inRun (local.get $blank))
        (br $next)))
    (global.set $lead (local.get $lead))
    (global.set $trail (local.get $trail))
    (i32.sub (i32.sub (local.get $w) (i32.shl (local.get $trail) (i32.const 1))) (local.get $dst)))

  (func (export "below") (param $ptr i32) (param $len i32) (param $limit i32) (result i32)
    (local $i i32) (local $top v128)
    (local.set $top (i8x16.splat (i32.sub (local.get $limit) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $len)))
        (if (v128.any_true (i8x16.gt_u (v128.load (i32.add (local.get $ptr) (local.get $i))) (local.get $top)))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next)))
    (block $tailDone
      (loop $tail
        (br_if $tailDone (i32.ge_u (local.get $i) (local.get $len)))
        (if (i32.ge_u (i32.load8_u (i32.add (local.get $ptr) (local.get $i))) (local.get $limit))
          (then (return (i32.const 0))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tail)))
    (i32.const 1))
)
