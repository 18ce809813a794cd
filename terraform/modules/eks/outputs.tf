output "cluster_name" {
  description = "Name of the EKS cluster."
  value       = aws_eks_cluster.this.name
}

output "cluster_endpoint" {
  description = "API server endpoint of the cluster."
  value       = aws_eks_cluster.this.endpoint
}

output "cluster_ca_certificate" {
  description = "Base64-encoded certificate authority data of the cluster."
  value       = aws_eks_cluster.this.certificate_authority[0].data
}

output "vpc_id" {
  description = "VPC of the cluster."
  value       = local.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets of the cluster and nodes."
  value       = local.subnet_ids
}

output "node_security_group_id" {
  description = "Security group EKS created for the cluster and its nodes."
  value       = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
}

output "consumer_role_arns" {
  description = "IAM role ARN (bound by EKS Pod Identity) by consumer name."
  value       = { for k, r in aws_iam_role.consumer : k => r.arn }
}

output "keda_role_arn" {
  description = "IAM role of KEDA's operator (reads queue depth)."
  value       = aws_iam_role.keda.arn
}

output "operator_role_arn" {
  description = "IAM role of the eventplane operator (queue depth, DLQ redrive)."
  value       = aws_iam_role.operator.arn
}
