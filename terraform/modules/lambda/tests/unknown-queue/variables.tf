variable "enabled" {
  description = "Whether the functions get the failure destination."
  type        = bool
}
