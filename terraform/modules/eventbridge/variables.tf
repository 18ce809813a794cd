variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"eventplane-dev\"."
  type        = string
}

variable "buses" {
  description = "Custom event buses from the topology file, each optionally archived for replay."
  type = list(object({
    name        = string
    description = optional(string, "")
    archive = optional(object({
      retentionDays = optional(number, 30)
    }))
  }))

  validation {
    condition     = alltrue([for b in var.buses : b.name != "default" && can(regex("^[A-Za-z0-9._-]{1,200}$", b.name))])
    error_message = "Bus names must be letters, digits, dots, hyphens or underscores, and not \"default\"."
  }
  validation {
    condition     = alltrue([for b in var.buses : b.archive == null ? true : b.archive.retentionDays >= 0])
    error_message = "archive.retentionDays must be 0 (indefinitely) or more."
  }
}

variable "rules" {
  description = "Rules from the topology file: an event pattern on a bus (\"default\" or a custom bus) and its targets (queue, topic or lambda), each with a retry policy and a dead-letter queue."
  type = list(object({
    name        = string
    bus         = string
    description = optional(string, "")
    pattern     = string # JSON (jsonencode of the topology's pattern)
    targets = list(object({
      queue           = optional(string)
      topic           = optional(string)
      lambda          = optional(string)
      deadLetterQueue = optional(string)
      inputPath       = optional(string)
      inputTransformer = optional(object({
        inputPaths    = map(string)
        inputTemplate = string
      }))
      retry = optional(object({
        maximumRetryAttempts   = optional(number, 185)
        maximumEventAgeSeconds = optional(number, 86400)
      }), {})
    }))
  }))

  validation {
    condition     = alltrue([for r in var.rules : can(jsondecode(r.pattern))])
    error_message = "A rule's pattern must be a JSON document (jsonencode the topology's pattern)."
  }
  validation {
    condition     = alltrue(flatten([for r in var.rules : [for t in r.targets : length(compact([t.queue, t.topic, t.lambda])) == 1]]))
    error_message = "Every rule target names exactly one of queue, topic or lambda."
  }
  validation {
    condition = alltrue(flatten([for r in var.rules : [for t in r.targets :
      t.retry.maximumRetryAttempts >= 0 && t.retry.maximumRetryAttempts <= 185 && t.retry.maximumEventAgeSeconds >= 60 && t.retry.maximumEventAgeSeconds <= 86400
    ]]))
    error_message = "retry.maximumRetryAttempts must be 0-185 and retry.maximumEventAgeSeconds 60-86400."
  }
}

variable "schedules" {
  description = "Scheduled rules from the topology file (on the default bus) that send a Scheduled Event to a queue."
  type = list(object({
    name        = string
    description = optional(string, "")
    expression  = string
    queue       = string
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.schedules : can(regex("^(rate|cron)\\(.+\\)$", s.expression))])
    error_message = "Schedule expressions must be rate(...) or cron(...)."
  }
}

variable "queue_arns" {
  description = "Queue ARN by logical queue name (targets and dead-letter queues)."
  type        = map(string)
}

variable "topic_arns" {
  description = "Topic ARN by logical topic name (targets)."
  type        = map(string)
  default     = {}
}

variable "lambda_arns" {
  description = "Lambda function ARN by logical function name (targets)."
  type        = map(string)
  default     = {}
}

variable "put_events_account_ids" {
  description = "Other AWS account ids allowed to put events on the custom buses (the owning account always can)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.put_events_account_ids : can(regex("^[0-9]{12}$", a))])
    error_message = "Account ids are 12 digits."
  }
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
