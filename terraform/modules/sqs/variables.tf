variable "name_prefix" {
  description = "Prefix of every queue name, e.g. \"eventplane-dev\"."
  type        = string
}

variable "queues" {
  description = "Queues from the topology file. Each gets a dead-letter queue named <name>-dlq unless deadLetter is false."
  type = list(object({
    name                     = string
    fifo                     = optional(bool, false)
    visibilityTimeoutSeconds = optional(number, 30)
    retentionSeconds         = optional(number, 345600)
    maxReceiveCount          = optional(number, 5)
    deadLetter               = optional(bool, true)
    delaySeconds             = optional(number, 0)
  }))

  validation {
    condition     = alltrue([for q in var.queues : can(regex("^[A-Za-z0-9_-]{1,50}(\\.fifo)?$", q.name))])
    error_message = "Queue names must be 1-50 letters, digits, hyphens or underscores (plus .fifo for FIFO queues)."
  }
  validation {
    condition     = alltrue([for q in var.queues : q.fifo == endswith(q.name, ".fifo")])
    error_message = "A queue is FIFO exactly when its name ends in .fifo."
  }
  validation {
    condition     = alltrue([for q in var.queues : q.visibilityTimeoutSeconds >= 0 && q.visibilityTimeoutSeconds <= 43200])
    error_message = "visibilityTimeoutSeconds must be between 0 and 43200 (12 hours)."
  }
  validation {
    condition     = alltrue([for q in var.queues : q.retentionSeconds >= 60 && q.retentionSeconds <= 1209600])
    error_message = "retentionSeconds must be between 60 and 1209600 (14 days)."
  }
  validation {
    condition     = alltrue([for q in var.queues : q.maxReceiveCount >= 1 && q.maxReceiveCount <= 1000])
    error_message = "maxReceiveCount must be between 1 and 1000."
  }
}

variable "senders" {
  description = "Per queue name, the AWS services and source ARNs (EventBridge rules, SNS topics, schedules) allowed to send to it. Nothing else may."
  type = map(list(object({
    service    = string
    source_arn = string
  })))
  default = {}

  validation {
    condition     = alltrue(flatten([for q, list in var.senders : [for s in list : contains(["events.amazonaws.com", "sns.amazonaws.com", "scheduler.amazonaws.com"], s.service)]]))
    error_message = "Senders must be events.amazonaws.com, sns.amazonaws.com or scheduler.amazonaws.com."
  }
}

variable "dlq_retention_seconds" {
  description = "Message retention of the dead-letter queues (default the maximum, 14 days)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_retention_seconds >= 60 && var.dlq_retention_seconds <= 1209600
    error_message = "dlq_retention_seconds must be between 60 and 1209600."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts every queue."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
