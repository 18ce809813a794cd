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

variable "environment" {
  description = "Environment of the API (dev, staging or prod): authorization NONE is allowed in dev only."
  type        = string
}

variable "authorization" {
  description = "How callers authenticate: JWT (an OIDC issuer, recommended), AWS_IAM (SigV4-signed requests) or NONE (anyone may post; dev only)."
  type        = string
  default     = "JWT"

  validation {
    condition     = contains(["JWT", "AWS_IAM", "NONE"], var.authorization)
    error_message = "authorization must be JWT, AWS_IAM or NONE."
  }
  validation {
    condition     = var.authorization != "NONE" || var.environment == "dev"
    error_message = "authorization NONE (no authentication) is allowed in dev only: use JWT or AWS_IAM."
  }
}

variable "jwt_scopes" {
  description = "With JWT authorization: per route key (\"POST /events\"), the scopes a token must carry (any one of them); a route not listed needs none."
  type        = map(list(string))
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.jwt_scopes) : contains(["POST /events"], k)])
    error_message = "jwt_scopes keys must be route keys of this API: \"POST /events\"."
  }
  validation {
    condition     = length(var.jwt_scopes) == 0 || var.authorization == "JWT"
    error_message = "jwt_scopes need authorization JWT."
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
