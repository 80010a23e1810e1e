# An X display for the Tk tests: the one in DISPLAY, else an Xvfb server of our
# own (Debian's xvfb) on a free display number, ended by xvfb::stop (by its PID).
# Sets the tcltest constraint `tk`: Tk loads in a child interpreter on that display.
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
# A child interpreter with Tk and torch loaded, or "" when Tk cannot start.
proc xvfb::tkInterp {} {
  set i [interp create]
  if {[catch {$i eval {package require Tk; wm withdraw .; package require torch}}]} {
    interp delete $i
    return ""
  }
  return $i
}

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
