variable "name_prefix" {
  description = "Prefix of every resource name; the cluster is named after it."
  type        = string
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version."
  type        = string
  default     = "1.31"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version looks like 1.31."
  }
}

variable "vpc_cidr" {
  description = "CIDR of the VPC created for the cluster (ignored when subnet_ids is set)."
  type        = string
  default     = "10.40.0.0/16"

  validation {
    condition     = can(cidrnetmask(var.vpc_cidr))
    error_message = "vpc_cidr must be a CIDR block."
  }
}

variable "vpc_id" {
  description = "Existing VPC to use with subnet_ids (null: create a VPC)."
  type        = string
  default     = null
}

variable "subnet_ids" {
  description = "Existing private subnets for the cluster and nodes (empty: create them)."
  type        = list(string)
  default     = []
}

variable "az_count" {
  description = "Availability zones the created VPC spans."
  type        = number
  default     = 3

  validation {
    condition     = var.az_count >= 2 && var.az_count <= 6
    error_message = "az_count must be between 2 and 6."
  }
}

variable "single_nat_gateway" {
  description = "One NAT gateway for all zones (cheaper) instead of one per zone (resilient)."
  type        = bool
  default     = true
}

variable "public_access_cidrs" {
  description = "CIDRs allowed to reach the public API endpoint; empty keeps the endpoint private."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.public_access_cidrs : can(cidrnetmask(c)) && c != "0.0.0.0/0"])
    error_message = "public_access_cidrs must be CIDR blocks, and not 0.0.0.0/0."
  }
}

variable "node_group" {
  description = "Managed node group: instance types, AMI type and size."
  type = object({
    instance_types = optional(list(string), ["m7g.large"])
    ami_type       = optional(string, "AL2023_ARM_64_STANDARD")
    min_size       = optional(number, 2)
    max_size       = optional(number, 6)
    desired_size   = optional(number, 2)
    disk_size_gb   = optional(number, 50)
  })
  default = {}

  validation {
    condition     = var.node_group.min_size <= var.node_group.desired_size && var.node_group.desired_size <= var.node_group.max_size
    error_message = "node_group needs min_size <= desired_size <= max_size."
  }
}

variable "keda" {
  description = "KEDA installed with Helm: chart version and namespace."
  type = object({
    version   = optional(string, "2.16.1")
    namespace = optional(string, "keda")
  })
  default = {}
}

variable "operator" {
  description = "Namespace and service account of the eventplane operator (its IAM role is bound by EKS Pod Identity)."
  type = object({
    namespace       = optional(string, "eventplane")
    service_account = optional(string, "eventplane-operator")
  })
  default = {}
}

variable "consumers" {
  description = "Per consumer, its Kubernetes service account and exactly the AWS resources it may use; each gets an IAM role bound by EKS Pod Identity."
  type = map(object({
    namespace       = string
    service_account = string
    queue_arn       = string
    dlq_arn         = string
    table_arns      = optional(list(string), [])
    bucket_arns     = optional(list(string), [])
    topic_arns      = optional(list(string), [])
    bus_arns        = optional(list(string), [])
  }))
  default = {}
}

variable "log_retention_days" {
  description = "Retention of the control-plane and VPC flow log groups."
  type        = number
  default     = 30
}

variable "kms_key_arn" {
  description = "ARN of the customer-managed KMS key for secrets, volumes and logs."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource."
  type        = map(string)
  default     = {}
}
