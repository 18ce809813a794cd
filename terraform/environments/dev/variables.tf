variable "region" {
  description = "AWS region of this environment."
  type        = string
}

variable "alert_emails" {
  description = "E-mail addresses that receive this environment's alarms."
  type        = list(string)
  default     = []
}

variable "eks_public_access_cidrs" {
  description = "CIDRs allowed to reach the EKS API endpoint from outside the VPC (empty: private only)."
  type        = list(string)
  default     = []
}

variable "api_jwt_issuer" {
  description = "OIDC issuer of the ingest API's JWT authorizer (null: IAM authorization)."
  type        = string
  default     = null
}

variable "api_jwt_scopes" {
  description = "Scopes a JWT must carry (any one), per route key of the ingest API, e.g. { \"POST /events\" = [\"events/write\"] }."
  type        = map(list(string))
  default     = {}
}

variable "api_jwt_audience" {
  description = "Accepted JWT audiences of the ingest API."
  type        = list(string)
  default     = []
}

variable "topology" {
  description = "The topology as an object (null: the platform reads api/topology.yaml)."
  type        = any
  default     = null
}
