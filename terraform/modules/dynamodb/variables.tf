variable "name_prefix" {
  description = "Prefix of every table name, e.g. \"eventplane-dev\"."
  type        = string
}

variable "tables" {
  description = "Tables from the topology file: keys, global secondary indexes and TTL attribute."
  type = list(object({
    name         = string
    hashKey      = object({ name = string, type = string })
    rangeKey     = optional(object({ name = string, type = string }))
    ttlAttribute = optional(string)
    globalSecondaryIndexes = optional(list(object({
      name           = string
      hashKey        = object({ name = string, type = string })
      rangeKey       = optional(object({ name = string, type = string }))
      projectionType = optional(string, "ALL")
    })), [])
  }))

  validation {
    condition = alltrue(flatten([for t in var.tables : concat(
      [contains(["S", "N", "B"], t.hashKey.type)],
      [t.rangeKey == null ? true : contains(["S", "N", "B"], t.rangeKey.type)],
      [for g in t.globalSecondaryIndexes : contains(["S", "N", "B"], g.hashKey.type) && contains(["ALL", "KEYS_ONLY"], g.projectionType)],
    )]))
    error_message = "Key types must be S, N or B (quote \"N\" in YAML: yamldecode reads a bare N as false), and GSI projections ALL or KEYS_ONLY."
  }
  validation {
    condition = alltrue([for t in var.tables : alltrue([for name, types in {
      for a in concat([t.hashKey], t.rangeKey == null ? [] : [t.rangeKey],
        [for g in t.globalSecondaryIndexes : g.hashKey], [for g in t.globalSecondaryIndexes : g.rangeKey if g.rangeKey != null],
      ) : a.name => a.type...
    } : length(distinct(types)) == 1])])
    error_message = "A key attribute shared by a table and its indexes must have one type everywhere."
  }
  validation {
    condition     = alltrue([for t in var.tables : can(regex("^[A-Za-z0-9_.-]{3,200}$", t.name))])
    error_message = "Table names must be 3-200 letters, digits, dots, hyphens or underscores."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on demand) or PROVISIONED (with target-tracking autoscaling)."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "provisioned_capacity" {
  description = "With PROVISIONED billing: minimum and maximum read/write capacity units and the target utilization (percent) the autoscaling keeps."
  type = object({
    min_read           = optional(number, 5)
    max_read           = optional(number, 100)
    min_write          = optional(number, 5)
    max_write          = optional(number, 100)
    target_utilization = optional(number, 70)
  })
  default = {}

  validation {
    condition     = var.provisioned_capacity.target_utilization >= 20 && var.provisioned_capacity.target_utilization <= 90
    error_message = "target_utilization must be between 20 and 90."
  }
}

variable "deletion_protection" {
  description = "Protect the tables from deletion (on in production)."
  type        = bool
  default     = false
}

variable "point_in_time_recovery" {
  description = "Continuous backups with point-in-time recovery."
  type        = bool
  default     = true
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key that encrypts every table."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
