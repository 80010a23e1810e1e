# Runs every tcltest file in this folder, or in the one given by -testdir
# (CTest runs it for tests/tcl and tests/dist with TCLLIBPATH set).
package require tcltest 2.5
namespace import ::tcltest::*
configure -testdir [file dirname [file normalize [info script]]] -singleproc 1 {*}$argv
# Exit non-zero when any test failed, so CTest sees it.
proc ::tcltest::cleanupTestsHook {} {
  variable numTests
  set ::failed $numTests(Failed)
}
runAllTests
exit [expr {[info exists ::failed] && $::failed > 0}]
