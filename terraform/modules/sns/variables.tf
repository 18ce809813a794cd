variable "name_prefix" {
  description = "Prefix of every topic name, e.g. \"eventplane-dev\"."
  type        = string
}

variable "topics" {
  description = "Topics from the topology file with their SQS subscriptions."
  type = list(object({
    name = string
    subscriptions = optional(list(object({
      queue              = string
      rawMessageDelivery = optional(bool, true)
      filterPolicy       = optional(string) # JSON (jsonencode of the topology's filterPolicy)
      filterPolicyScope  = optional(string, "MessageAttributes")
    })), [])
  }))

  validation {
    condition     = alltrue([for t in var.topics : can(regex("^[A-Za-z0-9_-]{1,200}$", t.name))])
    error_message = "Topic names must be letters, digits, hyphens or underscores."
  }
  validation {
    condition     = alltrue(flatten([for t in var.topics : [for s in t.subscriptions : s.filterPolicy == null ? true : can(jsondecode(s.filterPolicy))]]))
    error_message = "filterPolicy must be a JSON document (jsonencode the topology's filter policy)."
  }
  validation {
    condition     = alltrue(flatten([for t in var.topics : [for s in t.subscriptions : contains(["MessageAttributes", "MessageBody"], s.filterPolicyScope)]]))
    error_message = "filterPolicyScope must be MessageAttributes or MessageBody."
  }
}

variable "queue_arns" {
  description = "ARN of every queue a subscription may name, by logical queue name."
  type        = map(string)
}

variable "publishers" {
  description = "Per topic name, the EventBridge rule ARNs allowed to publish to it."
  type        = map(list(string))
  default     = {}
}

variable "alarm_topic" {
  description = "Name of the topic CloudWatch alarms publish to (it also accepts cloudwatch.amazonaws.com)."
  type        = string
  default     = "alerts"
}

variable "alert_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm)."
  type        = list(string)
  default     = []
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts every topic."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
