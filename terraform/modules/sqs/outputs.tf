output "queue_urls" {
  description = "Queue URL by logical queue name."
  value       = { for k, q in aws_sqs_queue.this : k => q.url }
}

output "queue_arns" {
  description = "Queue ARN by logical queue name."
  value       = { for k, q in aws_sqs_queue.this : k => q.arn }
}

output "queue_names" {
  description = "Physical queue name by logical queue name."
  value       = { for k, q in aws_sqs_queue.this : k => q.name }
}

output "dlq_urls" {
  description = "Dead-letter queue URL by logical name of the queue it serves."
  value       = { for k, q in aws_sqs_queue.dlq : k => q.url }
}

output "dlq_arns" {
  description = "Dead-letter queue ARN by logical name of the queue it serves."
  value       = { for k, q in aws_sqs_queue.dlq : k => q.arn }
}

output "dlq_names" {
  description = "Physical dead-letter queue name by logical name of the queue it serves."
  value       = { for k, q in aws_sqs_queue.dlq : k => q.name }
}
