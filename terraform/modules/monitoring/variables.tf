variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"eventplane-dev\"."
  type        = string
}

variable "alarm_topic_arn" {
  description = "Shared SNS topic that receives alarm notifications of every severity (besides the module's per-severity topics)."
  type        = string
}

variable "queues" {
  description = "Physical names of the work queues to watch (depth and age), by logical name."
  type        = map(string)
}

variable "dead_letter_queues" {
  description = "Physical names of the dead-letter queues (any message is critical), by logical name."
  type        = map(string)
}

variable "functions" {
  description = "Lambda function names by logical name, with their timeout in seconds."
  type = map(object({
    name            = string
    timeout_seconds = number
  }))
  default = {}
}

variable "tables" {
  description = "Physical DynamoDB table names by logical name."
  type        = map(string)
  default     = {}
}

variable "rules" {
  description = "Physical EventBridge rule names (with their bus) by logical name."
  type = map(object({
    name = string
    bus  = string
  }))
  default = {}
}

variable "thresholds" {
  description = "Warning thresholds: visible messages per queue, age of the oldest message (seconds) and Lambda duration as a share of its timeout."
  type = object({
    queue_depth          = optional(number, 1000)
    oldest_message_age_s = optional(number, 900)
    duration_ratio       = optional(number, 0.8)
  })
  default = {}

  validation {
    condition     = var.thresholds.queue_depth > 0 && var.thresholds.oldest_message_age_s > 0 && var.thresholds.duration_ratio > 0 && var.thresholds.duration_ratio <= 1
    error_message = "Thresholds must be positive and duration_ratio at most 1."
  }
}

variable "daily_summary_cron" {
  description = "When the daily summary (info) is sent to the alarm topic, as an EventBridge cron expression (UTC)."
  type        = string
  default     = "cron(0 8 * * ? *)"
}

variable "xray_sampling" {
  description = "X-Ray sampling: requests per second always traced (reservoir) and the fixed rate beyond it."
  type = object({
    reservoir  = optional(number, 1)
    fixed_rate = optional(number, 0.05)
  })
  default = {}

  validation {
    condition     = var.xray_sampling.fixed_rate >= 0 && var.xray_sampling.fixed_rate <= 1 && var.xray_sampling.reservoir >= 0
    error_message = "fixed_rate must be within 0..1 and reservoir non-negative."
  }
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts X-Ray traces."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}

variable "emf_namespace" {
  description = "CloudWatch namespace of the metrics the functions write as embedded metric format logs (consumers/emf)."
  type        = string
  default     = "eventplane"
}

variable "manage_xray_encryption" {
  description = "Manage the account's X-Ray encryption configuration (one per account and region: turn it on in exactly one environment)."
  type        = bool
  default     = false
}
