# Runs every multi-process test file in this folder (CTest's `dist` test).
package require tcltest 2.5
namespace import ::tcltest::*
configure -testdir [file dirname [file normalize [info script]]] -singleproc 1 {*}$argv
proc ::tcltest::cleanupTestsHook {} {
  variable numTests
  set ::failed $numTests(Failed)
}
runAllTests
exit [expr {[info exists ::failed] && $::failed > 0}]
