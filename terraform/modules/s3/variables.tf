variable "name_prefix" {
  description = "Prefix of every bucket name, e.g. \"eventplane-dev\"; bucket names also get the account id for global uniqueness."
  type        = string
}

variable "buckets" {
  description = "Buckets from the topology file: purpose, EventBridge notifications, lifecycle transitions and expiry."
  type = list(object({
    name        = string
    purpose     = optional(string, "data")
    eventBridge = optional(bool, false)
    expireDays  = optional(number)
    transitions = optional(list(object({
      days         = number
      storageClass = string
    })), [])
  }))

  validation {
    condition     = alltrue([for b in var.buckets : can(regex("^[a-z0-9][a-z0-9-]{1,20}$", b.name))])
    error_message = "Logical bucket names must be 2-21 lower-case letters, digits or hyphens."
  }
  validation {
    condition = alltrue(flatten([for b in var.buckets : [for t in b.transitions :
    contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], t.storageClass) && t.days >= 1]]))
    error_message = "Transitions need days >= 1 and a storage class of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER or DEEP_ARCHIVE."
  }
}

variable "noncurrent_version_expire_days" {
  description = "Days after which noncurrent object versions are deleted."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expire_days >= 1
    error_message = "noncurrent_version_expire_days must be at least 1."
  }
}

variable "access_log_bucket" {
  description = "Name of an existing bucket that receives server access logs (null: no access logging)."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (never in production)."
  type        = bool
  default     = false
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts every object."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
