# torchrun.tcl: start N ranks of a script on this machine (the Tcl
# counterpart of torchrun). Installed as the `tcltorchrun` command by
# `cmake --install`.
#
#   tcltorchrun -nproc N ?-nnodes M -node_rank K -master_addr A -master_port P?
#               ?-max_restarts R? ?-max_time S? script ?args?
#
# Each rank gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
# MASTER_PORT and TORCHELASTIC_RESTART_COUNT (also TCLTORCH_RESTART_COUNT) in
# its environment, and glibc's MALLOC_MMAP_THRESHOLD_ (64 MiB) and
# MALLOC_TRIM_THRESHOLD_ (256 MiB) unless already set (freed buffers are kept
# for the next step instead of being faulted in again); every output line is
# printed with a "[rank] " prefix (stdout lines on stdout, stderr lines on stderr). When a rank exits non-zero
# the launcher prints one summary (the first failing rank, its exit status or
# signal, the last lines of its stderr; a rank that failed because a peer went
# away counts after one that did not) and ends the other ranks by PID
# (TERM, then KILL after 5 s). With -max_restarts R it then starts every local
# rank again, up to R times, with a fresh rendezvous (a new free port on one
# machine; -master_port + restart count when -master_port is given, so that
# the launchers of all hosts, each restarting its own ranks, meet again); a
# script that resumes from its checkpoint goes on.
# Otherwise it exits with that rank's status (128+signal when killed).
#
# A script that ends in .tcl runs with this tclsh; anything else is executed
# as a program (e.g. /usr/bin/python3 script.py). -max_time S ends every rank
# after S seconds in all and exits 124 (for test suites that must never hang).
# Multi-node: run the same launcher on every host with -nnodes, -node_rank,
# -master_addr (the host of rank 0) and -master_port.

namespace eval torchrun {
  variable usage "usage: tcltorchrun -nproc N ?-nnodes M -node_rank K -master_addr A -master_port P? ?-max_restarts R? ?-max_time S? script ?args?"
  variable chans {}   ;# chan -> {rank stream}
  variable pids {}    ;# rank -> pid (of the current attempt)
  variable tails {}   ;# rank -> last stderr lines
  variable open 0     ;# channels still open
  variable failed {}  ;# {rank status how} of the first failure seen in this attempt
  variable failures {} ;# every {rank status how} of this attempt, in the order seen
  variable done 0
  variable timedOut 0
  variable killTimer ""
  variable graceTimer ""
}

# A free TCP port on 127.0.0.1, as chosen by the kernel.
proc ::torchrun::free_port {} {
  set s [socket -server {apply {{c a p} {close $c}}} -myaddr 127.0.0.1 0]
  set port [lindex [fconfigure $s -sockname] 2]
  close $s
  return $port
}

proc ::torchrun::parse {argv} {
  variable usage
  set opts [dict create nproc "" nnodes 1 node_rank 0 master_addr 127.0.0.1 master_port "" \
                max_time 0 max_restarts 0]
  while {[llength $argv] && [string match -* [lindex $argv 0]]} {
    set argv [lassign $argv flag value]
    set key [string range $flag 1 end]
    if {$key eq "-"} break
    if {![dict exists $opts $key]} { error "unknown option $flag\n$usage" }
    if {$key ne "master_addr" && ![string is integer -strict $value]} {
      error "$flag needs an integer, got \"$value\"\n$usage"
    }
    dict set opts $key $value
  }
  if {![llength $argv] || [dict get $opts nproc] eq "" || [dict get $opts nproc] < 1} {
    error $usage
  }
  if {[dict get $opts master_port] eq "" && [dict get $opts nnodes] > 1} {
    error "-master_port is required with -nnodes > 1"
  }
  return [list $opts $argv]
}

# TERM to every rank still running; KILL to those left after 5 s.
proc ::torchrun::end_others {} {
  variable pids
  variable killTimer
  dict for {rank pid} $pids { catch {exec kill -TERM $pid} }
  if {$killTimer eq ""} {
    set killTimer [after 5000 {
      dict for {rank pid} $::torchrun::pids { catch {exec kill -KILL $pid} }
    }]
  }
}

proc ::torchrun::on_readable {chan} {
  variable chans
  variable tails
  lassign [dict get $chans $chan] rank stream
  if {[gets $chan line] >= 0} {
    if {$stream eq "stderr"} {
      puts stderr "\[$rank\] $line"
      set t [dict get $tails $rank]
      lappend t $line
      dict set tails $rank [lrange $t end-9 end]
    } else {
      puts "\[$rank\] $line"
    }
    return
  }
  if {![eof $chan]} return
  dict unset chans $chan
  if {$stream eq "stderr"} {
    catch {close $chan}
  } else {
    # The rank ended: its exit status comes from closing its pipeline.
    fconfigure $chan -blocking 1
    set status 0
    set how ""
    if {[catch {close $chan} msg opts]} {
      set code [dict get $opts -errorcode]
      switch -- [lindex $code 0] {
        CHILDSTATUS { set status [lindex $code 2]; set how "exit status $status" }
        CHILDKILLED {
          set sig [lindex $code 2]
          set num [expr {[catch {exec kill -l [string range $sig 3 end]} n] ? 9 : $n}]
          set status [expr {128 + $num}]
          set how "killed by signal $sig"
        }
      }
    }
    rank_ended $rank $status $how
  }
  variable open
  if {[incr open -1] == 0} { set ::torchrun::done 1 }
}

proc ::torchrun::rank_ended {rank status how} {
  variable pids
  variable failed
  variable failures
  variable tails
  dict unset pids $rank
  if {$status == 0} return
  # Ended by us (TERM/KILL after a failure): not a failure of its own.
  if {[llength $failed] && [string match "killed by signal SIG*" $how] && $how ni {{killed by signal SIGSEGV} {killed by signal SIGABRT} {killed by signal SIGBUS}}} return
  lappend failures [list $rank $status $how]
  if {![llength $failed]} {
    set failed [list $rank $status $how]
    puts stderr "torchrun: rank $rank exited with status $status; ending the other ranks"
    # After a grace second: a rank already on its way out (often the one that
    # failed first, while its peers saw it leave) ends with its own status.
    variable graceTimer [after 1000 ::torchrun::end_others]
  }
}

# One summary per failure: first failing rank, how it ended, its last stderr lines.
proc ::torchrun::summary {attempt maxRestarts} {
  variable failed
  variable failures
  variable tails
  # A rank that failed because a peer went away comes second, even when its
  # exit was seen first (they end within the same milliseconds).
  foreach f $failures {
    set r [lindex $f 0]
    if {![regexp -nocase {Connection closed by peer|Connection reset by peer|Connection refused|Broken pipe|TORCH DIST|timed out|flight recorder|gloo} \
              [join [dict get $tails $r] \n]]} {
      set failed $f
      break
    }
  }
  lassign $failed rank status how
  set lines [expr {[dict exists $tails $rank] ? [dict get $tails $rank] : {}}]
  set s "torchrun: failure summary (attempt [expr {$attempt + 1}] of [expr {$maxRestarts + 1}]): rank $rank failed first, $how"
  if {[llength $lines]} {
    append s "; last lines of its stderr:"
    foreach l $lines { append s "\n    $l" }
  } else {
    append s "; it wrote nothing to stderr"
  }
  puts stderr $s
}

# Starts every local rank of one attempt.
proc ::torchrun::start {opts prog attempt port} {
  variable chans
  variable pids
  variable tails
  variable open
  set nproc [dict get $opts nproc]
  set world [expr {$nproc * [dict get $opts nnodes]}]
  for {set local 0} {$local < $nproc} {incr local} {
    set rank [expr {[dict get $opts node_rank] * $nproc + $local}]
    set ::env(RANK) $rank
    set ::env(LOCAL_RANK) $local
    set ::env(WORLD_SIZE) $world
    set ::env(LOCAL_WORLD_SIZE) $nproc
    set ::env(MASTER_ADDR) [dict get $opts master_addr]
    set ::env(MASTER_PORT) $port
    set ::env(TORCHELASTIC_RESTART_COUNT) $attempt
    set ::env(TCLTORCH_RESTART_COUNT) $attempt
    # glibc gives freed blocks of 128 KiB and more back to the system and
    # page-faults them in again on their next use, and a training step frees
    # and re-allocates the same buffers every time (fully_shard's gathered
    # units, gradients, collective buffers). As PyTorch's CPU launcher preloads
    # a caching allocator, ranks keep them, unless the caller set these.
    foreach {var value} {MALLOC_MMAP_THRESHOLD_ 67108864 MALLOC_TRIM_THRESHOLD_ 268435456} {
      if {![info exists ::env($var)]} { set ::env($var) $value }
    }
    lassign [chan pipe] er ew
    set chan [open |[list {*}$prog 2>@ $ew] r]
    close $ew
    foreach {c stream} [list $chan stdout $er stderr] {
      fconfigure $c -blocking 0 -buffering line
      dict set chans $c [list $rank $stream]
      fileevent $c readable [list ::torchrun::on_readable $c]
      incr open
    }
    dict set pids $rank [pid $chan]
    dict set tails $rank {}
  }
}

proc ::torchrun::main {argv} {
  variable failed
  variable done
  variable timedOut
  variable killTimer
  lassign [parse $argv] opts cmd
  set script [lindex $cmd 0]
  set prog [expr {[string match *.tcl $script] ? [list [info nameofexecutable] {*}$cmd] : $cmd}]
  fconfigure stdout -buffering line
  set maxRestarts [dict get $opts max_restarts]
  if {[dict get $opts max_time] > 0} {
    after [expr {[dict get $opts max_time] * 1000}] {
      set ::torchrun::timedOut 1
      if {![llength $::torchrun::failed]} { set ::torchrun::failed {all 124 {ended by -max_time}} }
      puts stderr "torchrun: -max_time reached; ending every rank"
      ::torchrun::end_others
    }
  }
  for {set attempt 0} {1} {incr attempt} {
    # A fresh rendezvous per attempt: a new free port on one machine,
    # -master_port + attempt across machines (every host counts alike).
    set port [dict get $opts master_port]
    set port [expr {$port eq "" ? [free_port] : $port + $attempt}]
    set failed {}
    set failures {}
    set done 0
    start $opts $prog $attempt $port
    vwait ::torchrun::done
    # Timers of this attempt must not reach the next one's ranks.
    foreach timer {killTimer graceTimer} {
      after cancel [set ::torchrun::$timer]
      set ::torchrun::$timer ""
    }
    if {![llength $failed]} { exit 0 }
    if {$timedOut} { exit 124 }
    summary $attempt $maxRestarts
    if {$attempt >= $maxRestarts} { break }
    puts stderr "torchrun: restarting every local rank (restart [expr {$attempt + 1}] of $maxRestarts)"
  }
  set status [lindex $failed 1]
  exit [expr {$status ? $status : 1}]
}

if {[info exists argv0] && [file normalize $argv0] eq [file normalize [info script]]} {
  if {[catch {::torchrun::main $argv} msg]} {
    puts stderr $msg
    exit 2
  }
}
