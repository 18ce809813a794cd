variable "name_prefix" {
  description = "Prefix of every function name, e.g. \"eventplane-dev\"."
  type        = string
}

variable "functions" {
  description = "Functions from the topology file. handler names the binary that `make lambda` packs into <artifacts_dir>/<handler>-<architecture>.zip."
  type = list(object({
    name                = string
    handler             = string
    description         = optional(string, "")
    memoryMb            = optional(number, 256)
    timeoutSeconds      = optional(number, 30)
    reservedConcurrency = optional(number, -1)
    environment         = optional(map(string), {})
    # lambda-sqs: the queue that triggers it (an event source mapping with
    # partial batch responses) and that queue's dead-letter queue.
    queue_trigger = optional(object({
      queue_arn  = string
      dlq_arn    = optional(string)
      batch_size = optional(number)
    }))
  }))

  validation {
    condition     = alltrue([for f in var.functions : f.memoryMb >= 128 && f.memoryMb <= 10240])
    error_message = "memoryMb must be between 128 and 10240."
  }
  validation {
    condition     = alltrue([for f in var.functions : f.timeoutSeconds >= 1 && f.timeoutSeconds <= 900])
    error_message = "timeoutSeconds must be between 1 and 900."
  }
  validation {
    condition     = alltrue([for f in var.functions : f.queue_trigger == null || try(f.queue_trigger.batch_size >= 1 && f.queue_trigger.batch_size <= 10000, true)])
    error_message = "queue_trigger.batch_size must be between 1 and 10000."
  }
  validation {
    condition     = alltrue([for f in var.functions : f.reservedConcurrency >= -1])
    error_message = "reservedConcurrency must be -1 (unreserved) or more."
  }
}

variable "artifacts_dir" {
  description = "Folder holding the zips built by `make lambda`."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the functions: arm64 or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "permissions" {
  description = "Per function name, the IAM statements its role gets (least privilege: list the actions and the resource ARNs)."
  type = map(list(object({
    actions   = list(string)
    resources = list(string)
  })))
  default = {}

  validation {
    condition     = alltrue(flatten([for f, list in var.permissions : [for s in list : !(contains(s.actions, "*") && contains(s.resources, "*"))]]))
    error_message = "A statement may not grant every action on every resource."
  }
}

variable "failure_destination" {
  description = "SQS queue that receives asynchronous invocations that failed every retry. enabled must be known at plan time (it decides which resources exist); queue_arn may be known only after apply."
  type = object({
    enabled   = bool
    queue_arn = optional(string)
  })
  default = { enabled = false }

  validation {
    condition     = !var.failure_destination.enabled || var.failure_destination.queue_arn != null
    error_message = "failure_destination.queue_arn is required when enabled is true."
  }
}

variable "log_retention_days" {
  description = "Retention of the functions' log groups."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for environment variables and log groups."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
