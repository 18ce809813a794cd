output "function_names" {
  description = "The functions' names."
  value       = module.lambda.function_names
}

output "queue_arn_known" {
  description = "Whether the queue's ARN is known at plan time (it is not)."
  value       = can(regex(".", aws_sqs_queue.dlq.arn))
}
