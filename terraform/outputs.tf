output "region" {
  description = "AWS region of the platform."
  value       = local.region
}

output "account_id" {
  description = "AWS account of the platform."
  value       = local.account
}

output "name_prefix" {
  description = "Prefix of every resource name (<project>-<environment>)."
  value       = local.prefix
}

output "kms_key_arn" {
  description = "Customer-managed key that encrypts the platform's data at rest."
  value       = module.kms.key_arn
}

output "bus_names" {
  description = "Event bus names by logical name."
  value       = module.eventbridge.bus_names
}

output "bus_arns" {
  description = "Event bus ARNs by logical name."
  value       = module.eventbridge.bus_arns
}

output "archive_arns" {
  description = "Event archive ARNs (replay) by logical bus name."
  value       = module.eventbridge.archive_arns
}

output "rule_arns" {
  description = "EventBridge rule ARNs by logical name."
  value       = module.eventbridge.rule_arns
}

output "queue_urls" {
  description = "Queue URLs by logical name."
  value       = module.sqs.queue_urls
}

output "queue_arns" {
  description = "Queue ARNs by logical name."
  value       = module.sqs.queue_arns
}

output "dlq_urls" {
  description = "Dead-letter queue URLs by logical name of the queue they serve."
  value       = module.sqs.dlq_urls
}

output "topic_arns" {
  description = "SNS topic ARNs by logical name."
  value       = module.sns.topic_arns
}

output "table_names" {
  description = "DynamoDB table names by logical name."
  value       = module.dynamodb.table_names
}

output "bucket_names" {
  description = "S3 bucket names by logical name."
  value       = module.s3.bucket_names
}

output "function_names" {
  description = "Lambda function names by logical name."
  value       = module.lambda.function_names
}

output "api_endpoint" {
  description = "Base URL of the HTTP ingest API (POST <url>/events)."
  value       = module.apigateway.endpoint
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the platform."
  value       = module.monitoring.dashboard_name
}

output "eks_cluster_name" {
  description = "EKS cluster name (null when EKS is disabled)."
  value       = try(module.eks[0].cluster_name, null)
}

output "eks_cluster_endpoint" {
  description = "EKS API endpoint (null when EKS is disabled)."
  value       = try(module.eks[0].cluster_endpoint, null)
}

output "eks_cluster_ca_certificate" {
  description = "EKS certificate authority data (null when EKS is disabled)."
  value       = try(module.eks[0].cluster_ca_certificate, null)
}

output "consumer_role_arns" {
  description = "IAM role (EKS Pod Identity) of each consumer, by consumer name."
  value       = try(module.eks[0].consumer_role_arns, {})
}

output "keda_role_arn" {
  description = "IAM role of KEDA's operator."
  value       = try(module.eks[0].keda_role_arn, null)
}

output "operator_role_arn" {
  description = "IAM role of the eventplane operator, bound by EKS Pod Identity (null without EKS)."
  value       = try(module.eks[0].operator_role_arn, null)
}

output "consumer_queues" {
  description = "Per consumer: its queue URL, ARN and dead-letter queue URL (for the Helm values)."
  value = { for c in local.consumers : c.name => {
    queue_url = module.sqs.queue_urls[c.queue]
    queue_arn = module.sqs.queue_arns[c.queue]
    dlq_url   = module.sqs.dlq_urls[c.queue]
  } }
}

output "postgres_endpoint" {
  description = "PostgreSQL endpoint (null when RDS is disabled)."
  value       = try(module.rds[0].endpoint, null)
}

output "postgres_secret_arn" {
  description = "Secrets Manager ARN of the PostgreSQL master password (null when RDS is disabled)."
  value       = try(module.rds[0].master_secret_arn, null)
}

output "roles" {
  description = "The topology's roles (ingest bus and function, alarm topic, failure queue) by logical name."
  value       = { ingest_bus = local.ingest_bus, ingest_lambda = local.ingest_lambda, alarm_topic = local.alarm_topic, failure_queue = local.failure_queue }

  precondition {
    condition     = local.ingest_bus != null && local.ingest_lambda != null
    error_message = "The topology needs ingest.bus and ingest.lambda: the bus the HTTP ingest API puts events on and the function API Gateway invokes."
  }
  precondition {
    condition     = local.alarm_topic != null
    error_message = "The topology needs alarms.topic: the topic CloudWatch alarms publish to."
  }
  precondition {
    condition     = local.failure_queue != null
    error_message = "The topology needs failures.queue: every function's on-failure destination."
  }
}
