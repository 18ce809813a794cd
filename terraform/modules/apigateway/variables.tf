variable "name_prefix" {
  description = "Prefix of every resource name, e.g. \"eventplane-dev\"."
  type        = string
}

variable "function_name" {
  description = "Name of the ingest Lambda function the API invokes."
  type        = string
}

variable "function_invoke_arn" {
  description = "Invoke ARN of the ingest Lambda function."
  type        = string
}

variable "authorization" {
  description = "How callers authenticate: JWT (an OIDC issuer, recommended), AWS_IAM (SigV4-signed requests) or NONE (only for private testing)."
  type        = string
  default     = "JWT"

  validation {
    condition     = contains(["JWT", "AWS_IAM", "NONE"], var.authorization)
    error_message = "authorization must be JWT, AWS_IAM or NONE."
  }
}

variable "jwt_issuer" {
  description = "OIDC issuer URL for JWT authorization (e.g. a Cognito user pool)."
  type        = string
  default     = null
}

variable "jwt_audience" {
  description = "Accepted audiences (client ids) for JWT authorization."
  type        = list(string)
  default     = []
}

variable "throttle" {
  description = "Steady-state requests per second and burst for the API's routes."
  type = object({
    rate_limit  = optional(number, 100)
    burst_limit = optional(number, 200)
  })
  default = {}

  validation {
    condition     = var.throttle.rate_limit > 0 && var.throttle.burst_limit > 0
    error_message = "Throttling limits must be positive."
  }
}

variable "log_retention_days" {
  description = "Retention of the access log group."
  type        = number
  default     = 30
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for the access log group."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
