# Writes the command reference from the command table: tclsh docs/generate.tcl OUT.md
package require torch
set f [open [lindex $argv 0] w]
puts -nonewline $f [torch::help -format markdown]
close $f
