# Fine-tune a model scripted in Python (TorchScript) on Fashion-MNIST in Tcl, then
# hand it back to Python.
#
#   tclsh examples/finetune_torchscript.tcl ?-epochs N? ?-train N? ?-test N? ?-lr LR? ?-out FILE?
#
# Step 1: Python (examples/finetune_torchscript.py) trains a small CNN with BatchNorm
#   briefly and saves it with torch.jit.save. Without Python's torch, the example uses
#   examples/models/fashion_cnn_scripted.pt, which that script made.
# Step 2: torch::jit_load gives a module handle; Tcl's SGD fine-tunes it (the
#   BatchNorm statistics update inside the scripted forward), torch::jit_call runs its
#   exported predict method, and the result goes back as TorchScript (-out, for
#   Python's torch.jit.load) and as safetensors (FILE with .safetensors).
array set opt {-epochs 1 -train 12000 -test 2000 -batch 64 -lr 0.02 -seed 1
               -data /usr/share/datasets/fashion-mnist -python /usr/bin/python3
               -out fashion_cnn_finetuned.pt}
array set opt $argv
package require torch

set here [file dirname [file normalize [info script]]]
proc say {msg} { puts $msg; flush stdout }

# ---- step 1: the scripted model ----
set pretrained [file join $here models fashion_cnn_scripted.pt]
if {[file executable $opt(-python)] && ![catch {exec $opt(-python) -c "import torch"}]} {
  set pretrained [file join [file dirname [file normalize $opt(-out)]] fashion_cnn_scripted.pt]
  exec $opt(-python) [file join $here finetune_torchscript.py] $pretrained $opt(-data)
  say "step 1: Python scripted the model -> $pretrained"
} else {
  say "step 1: no Python torch here; using the committed $pretrained"
}

# ---- data: uint8 IDX -> float32, normalized as in step 1 ----
proc load {name limit} { torch::dataset_idx_load [file join $::opt(-data) $name] -limit $limit }
proc images {name limit} {
  torch::scope { torch::tensor_unsqueeze [torch::dataset_normalize [load $name $limit] 0.2860 0.3530 255] 1 }
}
set xtrain [images train-images-idx3-ubyte.gz $opt(-train)]
set ytrain [torch::tensor_to [load train-labels-idx1-ubyte.gz $opt(-train)] -dtype int64]
set xtest [images t10k-images-idx3-ubyte.gz $opt(-test)]
set ytest [torch::tensor_to [load t10k-labels-idx1-ubyte.gz $opt(-test)] -dtype int64]
set ntrain [lindex [torch::tensor_shape $xtrain] 0]

# ---- step 2: load, score, fine-tune, score, save ----
set model [torch::jit_load $pretrained]
say "loaded: [torch::count_parameters $model] parameters, methods [torch::jit_methods $model]"

# Accuracy through the scripted model's own predict method.
proc accuracy {} {
  torch::model_eval $::model
  torch::no_grad {
    torch::scope {
      set pred [torch::jit_call $::model predict $::xtest]
      expr {100.0 * [torch::tensor_item [torch::tensor_sum [torch::tensor_eq $pred $::ytest]]] / [llength [torch::tensor_to_list $::ytest]]}
    }
  }
}
say [format "test accuracy before fine-tuning %.2f%%" [accuracy]]

torch::manual_seed $opt(-seed)
set optim [torch::optimizer_sgd $model $opt(-lr) 0.9]
for {set epoch 1} {$epoch <= $opt(-epochs)} {incr epoch} {
  torch::model_train $model
  set lossSum 0.0
  set batches [torch::dataset_batches $ntrain $opt(-batch) -shuffle 1 -seed $opt(-seed) -epoch $epoch -drop_last 1]
  foreach idx $batches {
    set lossSum [expr {$lossSum + [torch::scope {
      set x [torch::tensor_index_select $xtrain 0 $idx]
      set y [torch::tensor_index_select $ytrain 0 $idx]
      torch::optimizer_zero_grad $optim
      set loss [torch::cross_entropy_loss [torch::layer_forward $model $x] $y]
      torch::tensor_backward $loss
      torch::optimizer_step $optim
      torch::tensor_item $loss
    }]}]
  }
  say [format "epoch %d/%d loss %.4f test accuracy %.2f%%" $epoch $opt(-epochs) \
           [expr {$lossSum / max(1, [llength $batches])}] [accuracy]]
}

torch::jit_save $model $opt(-out)
torch::save_state_dict $model [file rootname $opt(-out)].safetensors
say "saved $opt(-out) (torch.jit.load) and [file rootname $opt(-out)].safetensors"
say [format "final test accuracy %.2f%%" [accuracy]]
