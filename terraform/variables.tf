variable "project" {
  description = "Project name, the first part of every resource name."
  type        = string
  default     = "eventplane"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters, digits or hyphens."
  }
}

variable "environment" {
  description = "Environment: dev, staging or prod."
  type        = string

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "topology" {
  description = "The topology as an object; null reads topology_file. (Scanners that cannot expand for_each over file contents pass it as a variable.)"
  type        = any
  default     = null
}

variable "topology_file" {
  description = "Path of the topology file (api/topology.yaml) that declares buses, rules, queues, topics, tables, buckets, functions and consumers."
  type        = string
  default     = null
}

variable "lambda_artifacts_dir" {
  description = "Folder with the function zips built by `make lambda` (default build/lambda at the repository root)."
  type        = string
  default     = null
}

variable "lambda_architecture" {
  description = "Instruction set of the Lambda functions: arm64 or x86_64."
  type        = string
  default     = "arm64"
}

variable "protect_data" {
  description = "Deletion protection on tables and the database, no force-destroy of buckets (on in production)."
  type        = bool
  default     = false
}

variable "dynamodb" {
  description = "DynamoDB capacity: PAY_PER_REQUEST, or PROVISIONED with autoscaling limits."
  type = object({
    billing_mode = optional(string, "PAY_PER_REQUEST")
    min_read     = optional(number, 5)
    max_read     = optional(number, 100)
    min_write    = optional(number, 5)
    max_write    = optional(number, 100)
  })
  default = {}
}

variable "eks" {
  description = "EKS cluster (with KEDA) for the consumers; enabled = false skips it."
  type = object({
    enabled             = optional(bool, true)
    kubernetes_version  = optional(string, "1.31")
    vpc_cidr            = optional(string, "10.40.0.0/16")
    single_nat_gateway  = optional(bool, true)
    public_access_cidrs = optional(list(string), [])
    instance_types      = optional(list(string), ["m7g.large"])
    min_size            = optional(number, 2)
    max_size            = optional(number, 6)
    desired_size        = optional(number, 2)
    keda_version        = optional(string, "2.21.0")
    consumer_namespace  = optional(string, "eventplane")
  })
  default = {}
}

variable "rds" {
  description = "Optional PostgreSQL (RDS) for the sql handler."
  type = object({
    enabled               = optional(bool, false)
    instance_class        = optional(string, "db.t4g.medium")
    multi_az              = optional(bool, false)
    backup_retention_days = optional(number, 7)
  })
  default = {}
}

variable "api" {
  description = "HTTP ingest API: authorization (JWT, AWS_IAM, or NONE in dev only), JWT issuer, audiences and required scopes per route, throttling."
  type = object({
    authorization = optional(string, "AWS_IAM")
    jwt_issuer    = optional(string)
    jwt_audience  = optional(list(string), [])
    jwt_scopes    = optional(map(list(string)), {})
    rate_limit    = optional(number, 100)
    burst_limit   = optional(number, 200)
  })
  default = {}
}

variable "alert_emails" {
  description = "E-mail addresses that receive alarms (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "log_retention_days" {
  description = "Retention of every log group the platform creates."
  type        = number
  default     = 30
}

variable "manage_xray_encryption" {
  description = "Manage the account's X-Ray encryption configuration with the platform key. It is one setting per account and region that every environment would overwrite: turn it on in exactly one environment (prod)."
  type        = bool
  default     = false
}

variable "alarm_thresholds" {
  description = "Warning thresholds: queue depth, age of the oldest message (seconds), Lambda duration share of its timeout."
  type = object({
    queue_depth          = optional(number, 1000)
    oldest_message_age_s = optional(number, 900)
    duration_ratio       = optional(number, 0.8)
  })
  default = {}
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
