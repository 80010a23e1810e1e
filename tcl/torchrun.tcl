# torchrun.tcl: start N ranks of a script on this machine (the Tcl
# counterpart of torchrun).
#
#   tclsh torchrun.tcl -nproc N ?-nnodes M -node_rank K -master_addr A -master_port P? ?-max_time S? script ?args?
#
# Each rank gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR and
# MASTER_PORT in its environment; every output line (stdout and stderr) is
# printed with a "[rank] " prefix. When any rank exits non-zero, the others are
# ended (by PID) and the launcher exits with that rank's status. A script that
# ends in .tcl runs with this tclsh; anything else is executed as a program
# (e.g. /usr/bin/python3 script.py). -max_time S ends every rank after S
# seconds and exits 124 (for test suites that must never hang).

namespace eval torchrun {
  variable usage "usage: tclsh torchrun.tcl -nproc N ?-nnodes M -node_rank K -master_addr A -master_port P? ?-max_time S? script ?args?"
  variable chans {}   ;# chan -> rank
  variable pids {}    ;# rank -> pid
  variable running 0
  variable failed {}  ;# {rank status} of the first failure
  variable done 0
}

# A free TCP port on 127.0.0.1, as chosen by the kernel.
proc torchrun::free_port {} {
  set s [socket -server {apply {{c a p} {close $c}}} -myaddr 127.0.0.1 0]
  set port [lindex [fconfigure $s -sockname] 2]
  close $s
  return $port
}

proc torchrun::parse {argv} {
  variable usage
  set opts [dict create nproc "" nnodes 1 node_rank 0 master_addr 127.0.0.1 master_port "" max_time 0]
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
  if {[dict get $opts master_port] eq ""} {
    if {[dict get $opts nnodes] > 1} { error "-master_port is required with -nnodes > 1" }
    dict set opts master_port [free_port]
  }
  return [list $opts $argv]
}

proc torchrun::end_others {} {
  variable pids
  variable chans
  dict for {chan rank} $chans {
    catch {exec kill -TERM [dict get $pids $rank]}
  }
}

proc torchrun::on_readable {chan} {
  variable chans
  variable running
  variable failed
  variable done
  set rank [dict get $chans $chan]
  if {[gets $chan line] >= 0} {
    puts "\[$rank\] $line"
    return
  }
  if {![eof $chan]} return
  # The rank ended: its exit status comes from closing the pipe.
  fconfigure $chan -blocking 1
  set status 0
  if {[catch {close $chan} msg opts]} {
    set code [dict get $opts -errorcode]
    switch -- [lindex $code 0] {
      CHILDSTATUS { set status [lindex $code 2] }
      CHILDKILLED { set status 128 }
      default     { set status 0 }
    }
  }
  dict unset chans $chan
  incr running -1
  if {$status != 0 && ![llength $failed]} {
    set failed [list $rank $status]
    puts stderr "torchrun: rank $rank exited with status $status; ending the other ranks"
    end_others
  }
  if {$running == 0} { set done 1 }
}

proc torchrun::main {argv} {
  variable chans
  variable pids
  variable running
  variable failed
  variable done
  lassign [parse $argv] opts cmd
  set nproc [dict get $opts nproc]
  set world [expr {$nproc * [dict get $opts nnodes]}]
  set script [lindex $cmd 0]
  set prog [expr {[string match *.tcl $script] ? [list [info nameofexecutable] {*}$cmd] : $cmd}]
  fconfigure stdout -buffering line
  for {set local 0} {$local < $nproc} {incr local} {
    set rank [expr {[dict get $opts node_rank] * $nproc + $local}]
    set ::env(RANK) $rank
    set ::env(LOCAL_RANK) $local
    set ::env(WORLD_SIZE) $world
    set ::env(LOCAL_WORLD_SIZE) $nproc
    set ::env(MASTER_ADDR) [dict get $opts master_addr]
    set ::env(MASTER_PORT) [dict get $opts master_port]
    set chan [open |[list {*}$prog 2>@1] r]
    fconfigure $chan -blocking 0 -buffering line
    dict set chans $chan $rank
    dict set pids $rank [pid $chan]
    incr running
    fileevent $chan readable [list torchrun::on_readable $chan]
  }
  if {[dict get $opts max_time] > 0} {
    after [expr {[dict get $opts max_time] * 1000}] {
      if {![llength $torchrun::failed]} {
        set torchrun::failed {all 124}
        puts stderr "torchrun: -max_time reached; ending every rank"
        torchrun::end_others
      }
    }
  }
  vwait torchrun::done
  if {[llength $failed]} { exit [expr {[lindex $failed 1] ? [lindex $failed 1] : 1}] }
  exit 0
}

if {[info exists argv0] && [file normalize $argv0] eq [file normalize [info script]]} {
  if {[catch {torchrun::main $argv} msg]} {
    puts stderr $msg
    exit 2
  }
}
