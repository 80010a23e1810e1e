# No file includes a header of a layer above it: reads the layers table and
# the exceptions table of docs/architecture.md and checks every
# `#include "..."` line of src/ and include/ against them.
# Usage: tclsh tests/layers.tcl ?SOURCE_DIR? (CTest: the `layers` test).

set root [file normalize [lindex [list {*}$argv [file dirname [file dirname [info script]]]] 0]]
set problems {}
proc problem {msg} { lappend ::problems $msg }

# The rows between <!-- NAME ... --> and <!-- /NAME -->, as lists of cells.
proc tableRows {text name} {
  set rows {}
  set inside 0
  foreach line [split $text \n] {
    if {[string match "<!-- $name*" $line]} { set inside 1; continue }
    if {[string match "<!-- /$name -->*" $line]} { break }
    if {!$inside || ![string match |* $line] || [string match |---* $line]} continue
    set cells {}
    foreach c [lrange [split $line |] 1 end-1] { lappend cells [string trim $c] }
    if {[lindex $cells 0] in {layer file}} continue  ;# the header row
    lappend rows $cells
  }
  return $rows
}
proc ticked {cell} { regexp -all -inline {`([^`]+)`} $cell }

set f [open $root/docs/architecture.md]
set doc [read $f]
close $f

# layer -> allowed layers; exact path -> layer; pattern -> layer
set exact [dict create]
set patterns {}
foreach row [tableRows $doc layers] {
  lassign $row layer files allowed
  set may($layer) [expr {$allowed eq "-" ? {} : $allowed}]
  foreach {- path} [ticked $files] {
    if {[string match {*[*?]*} $path]} { lappend patterns $path $layer } else { dict set exact $path $layer }
  }
}
if {![array size may]} { problem "docs/architecture.md: no layers table" }
foreach layer [array names may] {
  foreach l $may($layer) {
    if {![info exists may($l)]} { problem "layer $layer may include unknown layer $l" }
  }
}
set exceptions [dict create]
foreach row [tableRows $doc exceptions] {
  lassign $row file header
  dict set exceptions [lindex [ticked $file] 1]|[lindex [ticked $header] 1] 0
}

proc layerOf {path} {
  if {[dict exists $::exact $path]} { return [dict get $::exact $path] }
  set found {}
  foreach {pattern layer} $::patterns {
    if {[string match $pattern $path]} { lappend found $layer }
  }
  if {[llength $found] > 1} { problem "$path matches the patterns of layers [join $found {, }]" }
  return [lindex $found 0]
}

# Every source and header, relative to the root.
proc walk {dir} {
  set out {}
  foreach p [lsort [glob -nocomplain -directory $dir *]] {
    if {[file isdirectory $p]} {
      lappend out {*}[walk $p]
    } elseif {[regexp {\.(h|hpp|cpp|cc)$} $p]} {
      lappend out $p
    }
  }
  return $out
}
set files {}
foreach top {src include} {
  foreach p [walk $root/$top] { lappend files [string range $p [string length $root/] end] }
}

foreach path $files {
  set layer [layerOf $path]
  if {$layer eq ""} { problem "$path belongs to no layer (add it to the table in docs/architecture.md)"; continue }
  set f [open $root/$path]
  set lines [split [read $f] \n]
  close $f
  set n 0
  foreach line $lines {
    incr n
    if {![regexp {^\s*#\s*include\s*"([^"]+)"} $line -> name]} continue
    # Quoted includes: next to the file first, then include/.
    set local [file join [file dirname $path] $name]
    if {[file exists $root/$local]} {
      set target [string map {/./ /} $local]
    } elseif {[file exists $root/include/$name]} {
      set target include/$name
    } else {
      problem "$path:$n: \"$name\" is neither next to it nor under include/"
      continue
    }
    set theirs [layerOf $target]
    if {$theirs eq "" || $theirs eq $layer || $theirs in $may($layer)} continue
    if {[dict exists $exceptions $path|$name]} {
      dict set exceptions $path|$name 1
      continue
    }
    problem "$path:$n: layer $layer includes $name of layer $theirs (allowed: [join $may($layer) {, }])"
  }
}
dict for {key used} $exceptions {
  if {!$used} {
    lassign [split $key |] path name
    problem "the exception $path -> $name is no longer needed: remove its row from docs/architecture.md"
  }
}

if {[llength $problems]} {
  puts stderr [join $problems \n]
  puts stderr "[llength $problems] layer problem(s)"
  exit 1
}
puts "layers: [llength $files] files, [array size may] layers, no upward include"
