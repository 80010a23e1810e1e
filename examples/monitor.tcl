# A Tk window that trains the main job's Fashion-MNIST CNN in the event loop and
# shows it learning: loss and accuracy curves on a canvas, a grid of test images
# with their predicted labels (wrong ones in red, the true label below), and a pause button.
# One training step runs per event-loop turn, so the window stays responsive.
#
#   wish examples/monitor.tcl ?-batch 64? ?-lr 0.001? ?-train 60000? ?-every 10?
#   tclsh examples/monitor.tcl ...      (loads Tk itself)
#
# -every: steps between redraws of the curves (the grid is redrawn every 5 of those).
# -steps N: pause after N steps and print "ready" with the screen rectangles of the
# curves and the grid (for tests/tcl/monitor.test, which then reads stdin for "quit").
array set opt {-batch 64 -lr 0.001 -train 60000 -every 10 -seed 1 -steps 0
               -data /usr/share/datasets/fashion-mnist}
array set opt $argv
package require Tk
package require torch

set classes {T-shirt Trouser Pullover Dress Coat Sandal Shirt Sneaker Bag Boot}
set rows 4; set cols 6; set zoom 3

# ---- data and model (as examples/train_fashion_mnist.tcl) ----
proc load {name limit} { torch::dataset_idx_load [file join $::opt(-data) $name] -limit $limit }
set xtrain [torch::scope {
  torch::tensor_unsqueeze [torch::dataset_normalize [load train-images-idx3-ubyte.gz $opt(-train)] 0.2860 0.3530 255] 1
}]
set ytrain [torch::tensor_to [load train-labels-idx1-ubyte.gz $opt(-train)] -dtype int64]
set ngrid [expr {$rows * $cols}]
set testPixels [load t10k-images-idx3-ubyte.gz $ngrid]  ;# uint8, for the picture
set xtest [torch::tensor_unsqueeze [torch::dataset_normalize $testPixels 0.2860 0.3530 255] 1]
set ytest [torch::tensor_to_list [load t10k-labels-idx1-ubyte.gz $ngrid]]

torch::manual_seed $opt(-seed)
set model [torch::sequential [list \
    [torch::conv2d 1 32 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
    [torch::conv2d 32 64 3 -padding 1] [torch::relu] [torch::maxpool2d 2] \
    [torch::flatten] [torch::linear [expr {64 * 7 * 7}] 128] [torch::relu] [torch::linear 128 10]]]
set optim [torch::optimizer_adam $model $opt(-lr)]
# Batches come from worker threads while the window draws.
set loader [torch::dataloader [list $xtrain $ytrain] -batch $opt(-batch) -shuffle 1 -seed $opt(-seed) -drop_last 1]

# ---- window ----
wm title . "tcltorch: Fashion-MNIST"
set W 400; set H 300
ttk::frame .top
canvas .c -width $W -height $H -background white -highlightthickness 0
canvas .g -width [expr {$cols * 28 * $zoom + ($cols + 1) * 6}] -height [expr {$rows * (28 * $zoom + 34) + 6}] \
    -background white -highlightthickness 0
ttk::frame .bar
ttk::button .bar.pause -text Pause -command toggle -width 8
ttk::label .bar.status -text "starting" -width 70
pack .bar.pause .bar.status -side left -padx 6 -pady 4
grid .c .g -in .top -padx 6 -pady 6 -sticky n
pack .top .bar -side top -anchor w

# Plot area, axes and legend.
set px0 50; set py0 20; set px1 [expr {$W - 50}]; set py1 [expr {$H - 40}]
.c create rectangle $px0 $py0 $px1 $py1 -outline #888888
.c create text [expr {$px0 - 6}] $py0 -text "" -anchor e -tags lossMax -fill #1f4fbf
.c create text [expr {$px0 - 6}] $py1 -text 0 -anchor e -fill #1f4fbf
.c create text [expr {$px1 + 6}] $py0 -text 100% -anchor w -fill #2a8a2a
.c create text [expr {$px1 + 6}] $py1 -text 0% -anchor w -fill #2a8a2a
.c create text $px0 [expr {$py1 + 14}] -text 0 -anchor n
.c create text $px1 [expr {$py1 + 14}] -text "" -anchor n -tags stepMax
.c create text [expr {($px0 + $px1) / 2}] [expr {$py1 + 14}] -text step -anchor n
.c create text [expr {$px0 + 10}] [expr {$H - 8}] -text "— loss" -anchor w -fill #1f4fbf
.c create text [expr {$px0 + 110}] [expr {$H - 8}] -text "— train accuracy" -anchor w -fill #2a8a2a
.c create line 0 0 0 0 -fill #1f4fbf -width 2 -tags loss
.c create line 0 0 0 0 -fill #2a8a2a -width 2 -tags acc

# The grid: each test image put in a photo by torch::tensor_to_photo, zoomed by Tk.
image create photo small
for {set i 0} {$i < $ngrid} {incr i} {
  set x [expr {6 + ($i % $cols) * (28 * $zoom + 6)}]
  set y [expr {6 + ($i / $cols) * (28 * $zoom + 34)}]
  image create photo cell$i
  .g create image $x $y -image cell$i -anchor nw
  .g create text [expr {$x + 14 * $zoom}] [expr {$y + 28 * $zoom + 2}] -anchor n -tags label$i \
      -font {Helvetica 9}
}
proc drawGrid {} {
  torch::scope {
    torch::model_eval $::model
    set pred [torch::no_grad { torch::tensor_to_list [torch::tensor_argmax [torch::layer_forward $::model $::xtest] 1] }]
    torch::model_train $::model
  }
  set wrong 0
  for {set i 0} {$i < $::ngrid} {incr i} {
    torch::scope { torch::tensor_to_photo [torch::tensor_narrow $::testPixels 0 $i 1] small }
    cell$i copy small -zoom $::zoom
    set p [lindex $pred $i]; set t [lindex $::ytest $i]
    if {$p != $t} { incr wrong }
    # Right: the label in black; wrong: the prediction and (the truth) in red.
    .g itemconfigure label$i -text [expr {$p == $t ? [lindex $::classes $p]
                                          : "[lindex $::classes $p]\n([lindex $::classes $t])"}] \
        -fill [expr {$p == $t ? "black" : "red"}] -justify center
  }
  set ::wrong $wrong
}

# ---- training in the event loop ----
set step 0; set paused 0; set lossAcc 0.0; set corrAcc 0; set seenAcc 0
set lossPts {}; set accPts {}; set epoch 0; set t0 [clock milliseconds]
proc toggle {} {
  set ::paused [expr {!$::paused}]
  .bar.pause configure -text [expr {$::paused ? "Resume" : "Pause"}]
  if {!$::paused} { schedule }
}
proc schedule {} { after idle [list after 0 trainStep] }
proc trainStep {} {
  if {$::paused} return
  set b [torch::dataloader_next $::loader]
  if {![llength $b]} {  ;# end of an epoch: the loader starts the next one
    incr ::epoch
    schedule
    return
  }
  lassign [torch::scope {
    lassign $b x y
    torch::optimizer_zero_grad $::optim
    set logits [torch::layer_forward $::model $x]
    set loss [torch::cross_entropy_loss $logits $y]
    torch::tensor_backward $loss
    torch::optimizer_step $::optim
    list [torch::tensor_item $loss] [torch::tensor_item [torch::tensor_sum [torch::tensor_eq [torch::tensor_argmax $logits 1] $y]]]
  }] l c
  torch::free $b
  incr ::step
  set ::lossAcc [expr {$::lossAcc + $l}]; incr ::corrAcc $c; incr ::seenAcc $::opt(-batch)
  if {$::step % $::opt(-every) == 0} {
    lappend ::lossPts $::step [expr {$::lossAcc / $::opt(-every)}]
    lappend ::accPts $::step [expr {100.0 * $::corrAcc / $::seenAcc}]
    set ::lossAcc 0.0; set ::corrAcc 0; set ::seenAcc 0
    drawCurves
    if {$::step % (5 * $::opt(-every)) == 0} drawGrid
    .bar.status configure -text [format "epoch %d  step %d  loss %.3f  train accuracy %.1f%%  %.0f images/s" \
        $::epoch $::step [lindex $::lossPts end] [lindex $::accPts end] \
        [expr {1000.0 * $::step * $::opt(-batch) / max(1, [clock milliseconds] - $::t0)}]]
  }
  if {$::opt(-steps) > 0 && $::step >= $::opt(-steps)} {
    drawGrid
    toggle
    update
    puts "ready [rect .c] [rect .g] wrong $::wrong window [rect .]"
    flush stdout
    fileevent stdin readable { if {[gets stdin] eq "quit" || [eof stdin]} { exit } }
    return
  }
  schedule
}
proc rect {w} { list [winfo rootx $w] [winfo rooty $w] [winfo width $w] [winfo height $w] }

proc drawCurves {} {
  set n [expr {max(100, $::step)}]
  set maxLoss 0.0
  foreach {s l} $::lossPts { set maxLoss [expr {max($maxLoss, $l)}] }
  set xs [expr {double($::px1 - $::px0) / $n}]
  set lc {}; set ac {}
  foreach {s l} $::lossPts {
    lappend lc [expr {$::px0 + $s * $xs}] [expr {$::py1 - ($::py1 - $::py0) * $l / $maxLoss}]
  }
  foreach {s a} $::accPts {
    lappend ac [expr {$::px0 + $s * $xs}] [expr {$::py1 - ($::py1 - $::py0) * $a / 100.0}]
  }
  if {[llength $lc] < 4} { lappend lc {*}$lc; lappend ac {*}$ac }  ;# one point: a dot
  .c coords loss $lc
  .c coords acc $ac
  .c itemconfigure lossMax -text [format %.2f $maxLoss]
  .c itemconfigure stepMax -text $n
}

drawGrid
schedule
