# An X display for the Tk tests: the one in DISPLAY, else an Xvfb server of our
# own (Debian's xvfb) on a free display number, ended by xvfb::stop (by its PID).
# Sets the tcltest constraint `xvfb`; xvfb::tkEval runs a script where Tk is loaded.
namespace eval xvfb { variable pid "" }

proc xvfb::start {} {
  variable pid
  if {[info exists ::env(DISPLAY)] && $::env(DISPLAY) ne ""} { return 1 }
  if {[auto_execok Xvfb] eq ""} { return 0 }
  for {set n [expr {100 + [pid] % 400}]} {[file exists /tmp/.X11-unix/X$n] || [file exists /tmp/.X$n-lock]} {incr n} {}
  set pid [exec Xvfb :$n -screen 0 1024x768x24 -nolisten tcp >/dev/null 2>@1 &]
  for {set i 0} {$i < 100 && ![file exists /tmp/.X11-unix/X$n]} {incr i} { after 50 }
  set ::env(DISPLAY) :$n
  file exists /tmp/.X11-unix/X$n
}
proc xvfb::stop {} {
  variable pid
  if {$pid ne ""} {
    catch {exec kill $pid}
    unset ::env(DISPLAY)
    set pid ""
  }
}
# Runs `script` in a new tclsh with Tk (on that display) and torch loaded and returns
# its result; an error comes back as "error: MESSAGE ERRORCODE". A process of its own:
# Xlib ends a process whose display goes away, and the tests stop their Xvfb.
proc xvfb::tkEval {script} {
  set dir [expr {[info exists ::env(TMPDIR)] ? $::env(TMPDIR) : "/tmp"}]
  set file [file join $dir tcltorch-tk-[pid]-[incr ::xvfb::n].tcl]
  set f [open $file w]
  puts $f [list set script $script]
  puts $f {
    package require Tk
    wm withdraw .
    package require torch
    if {[catch $script r opts]} { set r [list error: $r [dict get $opts -errorcode]] }
    puts -nonewline [encoding convertto utf-8 $r]
    exit
  }
  close $f
  set code [catch {exec [info nameofexecutable] $file 2>@1} out]
  file delete $file
  if {$code} { return "failed: $out" }
  encoding convertfrom utf-8 $out
}
set ::xvfb::n 0

::tcltest::testConstraint xvfb [xvfb::start]

# The whole screen as a uint8 H x W x 3 tensor, through xwd (Debian's x11-apps):
# its header is big-endian CARD32s; 32-bit pixels in the server's byte order.
proc xvfb::screenshot {} {
  set f [open |[list xwd -root -silent] rb]
  set data [read $f]
  close $f
  binary scan $data Iu25 h
  lassign $h headerSize - - depth width height - byteOrder - - - bpp bytesPerLine
  set ncolors [lindex $h 19]
  if {$bpp != 32} { error "xwd: $bpp bits per pixel" }
  set off [expr {$headerSize + 12 * $ncolors}]
  set pixels [string range $data $off [expr {$off + $height * $bytesPerLine - 1}]]
  torch::scope {
    set t [torch::tensor_from_bytes $pixels [list $height $bytesPerLine] -dtype uint8]
    set t [torch::tensor_reshape [torch::tensor_slice $t 1 0 [expr {4 * $width}]] [list $height $width 4]]
    # LSBFirst: B G R x; MSBFirst: x R G B
    set order [expr {$byteOrder == 0 ? {2 1 0} : {1 2 3}}]
    torch::tensor_contiguous [torch::tensor_index_select $t 2 [torch::tensor_create $order -dtype int64]]
  }
}
