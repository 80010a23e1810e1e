# Shared helpers of the multi-process suite (tests/dist/*.test).
#
#   run_ranks nproc script ?maxSeconds?
#
# Writes `script` to a temp file (with `package require torch` in front), runs
# it on `nproc` ranks through tcl/torchrun.tcl with TCLLIBPATH pointing at the
# build folder, and returns [list exitcode output], where output is every
# rank's lines prefixed with "[rank] " (stdout and stderr). The launcher ends
# the ranks after maxSeconds (default 120) so that no test can hang the suite.
package require tcltest 2.5

namespace eval ::distTest {
  variable here [file dirname [file normalize [info script]]]
  variable source [expr {[info exists ::env(TCLTORCH_SOURCE)] ? $::env(TCLTORCH_SOURCE)
                         : [file dirname [file dirname $here]]}]
  variable launcher [file join $source tcl torchrun.tcl]
  variable counter 0
}
if {![info exists ::env(TCLLIBPATH)]} {
  set ::env(TCLLIBPATH) [list [file join $::distTest::source build]]
}

# TCLTORCH_DEBUG_DIR for the ranks of one run (next to its script), and back.
proc debug_dir_begin {script} {
  set dir $script.dumps
  file mkdir $dir
  set ::env(TCLTORCH_DEBUG_DIR) $dir
  return $dir
}
proc debug_dir_end {dir} {
  unset -nocomplain ::env(TCLTORCH_DEBUG_DIR)
  file delete -force $dir
}

proc run_ranks {nproc script {maxSeconds 120}} {
  set dir [expr {[info exists ::env(TMPDIR)] ? $::env(TMPDIR) : "/tmp"}]
  set file [file join $dir tcltorch-dist-[pid]-[incr ::distTest::counter].tcl]
  set f [open $file w]
  puts $f "package require torch"
  puts $f $script
  close $f
  set code 0
  # Flight-recorder dumps of failing ranks go to a folder removed afterwards.
  set dumps [debug_dir_begin $file]
  if {[catch {exec [info nameofexecutable] $::distTest::launcher -nproc $nproc -max_time $maxSeconds \
                  $file 2>@1} out opts]} {
    set ec [dict get $opts -errorcode]
    set code [expr {[lindex $ec 0] eq "CHILDSTATUS" ? [lindex $ec 2] : 1}]
  }
  debug_dir_end $dumps
  file delete $file
  return [list $code $out]
}

# The lines of one rank, without their "[rank] " prefix.
proc rank_lines {output rank} {
  set r {}
  foreach line [split $output \n] {
    if {[string match "\\\[$rank\\\] *" $line]} { lappend r [string range $line [string length "\[$rank\] "] end] }
  }
  return $r
}

# Output with the temporary script's name as script.tcl and flight-recorder
# paths as FILE, so that results can be compared exactly.
proc scrub {text} {
  regsub -all {tcltorch-(?:dist|netns)-\d+-\d+\.tcl} $text script.tcl text
  regsub -all {\(flight recorder: /\S+\.txt\)} $text {(flight recorder: FILE)} text
  return $text
}
