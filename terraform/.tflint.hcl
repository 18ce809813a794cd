# tflint with its bundled Terraform ruleset, every rule on (offline: no
# plugins to download).
config {
  call_module_type = "local"
}

plugin "terraform" {
  enabled = true
  preset  = "all"
}
