# A TensorBoard event file reader of the tests' own (no TensorFlow): TFRecord
# framing with both masked CRC32Cs checked, and the Event/Summary protobuf fields
# decoded by hand. Sourced by summary.test and tests/dist/summary.test.
#
#   tfevents::records file   -> list of record payloads (errors on a bad CRC)
#   tfevents::fields bytes   -> list of {field wiretype value}
#   tfevents::summaries file -> list of dicts: step, tag, kind (scalar histo image
#                               text version), value (kind-specific)

namespace eval tfevents {
  variable table {}
  for {set i 0} {$i < 256} {incr i} {
    set c $i
    for {set k 0} {$k < 8} {incr k} {
      set c [expr {$c & 1 ? 0x82F63B78 ^ ($c >> 1) : $c >> 1}]
    }
    lappend table $c
  }
}

proc tfevents::crc32c {bytes} {
  variable table
  set crc 0xFFFFFFFF
  binary scan $bytes cu* bs
  foreach b $bs {
    set crc [expr {[lindex $table [expr {($crc ^ $b) & 0xFF}]] ^ ($crc >> 8)}]
  }
  expr {$crc ^ 0xFFFFFFFF}
}
proc tfevents::masked {bytes} {
  set c [crc32c $bytes]
  expr {((($c >> 15) | ($c << 17)) + 0xa282ead8) & 0xFFFFFFFF}
}

proc tfevents::records {file} {
  set f [open $file rb]
  set data [read $f]
  close $f
  set out {}
  set pos 0
  while {$pos < [string length $data]} {
    set head [string range $data $pos [expr {$pos + 7}]]
    binary scan $head wu len
    binary scan [string range $data [expr {$pos + 8}] [expr {$pos + 11}]] iu lenCrc
    if {$lenCrc != [masked $head]} { error "bad length CRC at byte $pos" }
    set payload [string range $data [expr {$pos + 12}] [expr {$pos + 11 + $len}]]
    binary scan [string range $data [expr {$pos + 12 + $len}] [expr {$pos + 15 + $len}]] iu dataCrc
    if {[string length $payload] != $len || $dataCrc != [masked $payload]} { error "bad data CRC at byte $pos" }
    lappend out $payload
    set pos [expr {$pos + 16 + $len}]
  }
  return $out
}

proc tfevents::varint {bytes posVar} {
  upvar 1 $posVar pos
  set v 0
  set shift 0
  while 1 {
    binary scan $bytes @${pos}cu b
    incr pos
    set v [expr {$v | (($b & 0x7F) << $shift)}]
    if {!($b & 0x80)} { return $v }
    incr shift 7
  }
}

proc tfevents::fields {bytes} {
  set out {}
  set pos 0
  while {$pos < [string length $bytes]} {
    set key [varint $bytes pos]
    set field [expr {$key >> 3}]
    set wire [expr {$key & 7}]
    switch $wire {
      0 { set v [varint $bytes pos] }
      1 { binary scan $bytes @${pos}q v; incr pos 8 }
      5 { binary scan $bytes @${pos}r v; incr pos 4 }
      2 {
        set n [varint $bytes pos]
        set v [string range $bytes $pos [expr {$pos + $n - 1}]]
        incr pos $n
      }
      default { error "wire type $wire" }
    }
    lappend out [list $field $wire $v]
  }
  return $out
}
proc tfevents::get {fields field} {
  foreach f $fields { if {[lindex $f 0] == $field} { return [lindex $f 2] } }
  return ""
}

proc tfevents::summaries {file} {
  set out {}
  foreach rec [records $file] {
    set ev [fields $rec]
    set step [get $ev 2]
    if {[set version [get $ev 3]] ne ""} {
      lappend out [dict create step 0 tag "" kind version value $version]
      continue
    }
    foreach vf [fields [get $ev 5]] {
      set v [fields [lindex $vf 2]]
      set tag [get $v 1]
      if {[set s [get $v 2]] ne ""} {
        lappend out [dict create step $step tag $tag kind scalar value $s]
      } elseif {[set img [get $v 4]] ne ""} {
        set i [fields $img]
        lappend out [dict create step $step tag $tag kind image \
            value [dict create height [get $i 1] width [get $i 2] colorspace [get $i 3] png [get $i 4]]]
      } elseif {[set h [get $v 5]] ne ""} {
        set hf [fields $h]
        binary scan [get $hf 6] q* limits
        binary scan [get $hf 7] q* counts
        lappend out [dict create step $step tag $tag kind histo value [dict create \
            min [get $hf 1] max [get $hf 2] num [get $hf 3] sum [get $hf 4] sum_squares [get $hf 5] \
            bucket_limit $limits bucket $counts]]
      } elseif {[set t [get $v 8]] ne ""} {
        set plugin [get [fields [get [fields [get $v 9]] 1]] 1]
        set tf [fields $t]
        lappend out [dict create step $step tag $tag kind text plugin $plugin \
            value [get $tf 8] dtype [get $tf 1]]
      }
    }
  }
  return $out
}

# A PNG's chunks checked (CRC32) and its pixels inflated: dict width height
# colortype pixels (bytes without the per-row filter byte; filter 0 only).
proc tfevents::png {bytes} {
  if {[string range $bytes 0 7] ne "\x89PNG\r\n\x1a\n"} { error "not a PNG" }
  set pos 8
  set idat ""
  while {$pos < [string length $bytes]} {
    binary scan $bytes @${pos}Iu len
    set type [string range $bytes [expr {$pos + 4}] [expr {$pos + 7}]]
    set body [string range $bytes [expr {$pos + 4}] [expr {$pos + 7 + $len}]]
    binary scan $bytes @[expr {$pos + 8 + $len}]Iu crc
    if {$crc != [zlib crc32 $body]} { error "bad CRC in chunk $type" }
    set data [string range $body 4 end]
    switch $type {
      IHDR { binary scan $data IuIucucu w h depth ct }
      IDAT { append idat $data }
    }
    set pos [expr {$pos + 12 + $len}]
  }
  set raw [zlib decompress $idat]
  set ch [dict get {0 1 4 2 2 3 6 4} $ct]
  set row [expr {$w * $ch}]
  set pixels ""
  for {set y 0} {$y < $h} {incr y} {
    set start [expr {$y * ($row + 1)}]
    if {[string index $raw $start] ne "\x00"} { error "filter [scan [string index $raw $start] %c]" }
    append pixels [string range $raw [expr {$start + 1}] [expr {$start + $row}]]
  }
  dict create width $w height $h colortype $ct depth $depth pixels $pixels
}
