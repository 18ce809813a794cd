output "topic_arns" {
  description = "Topic ARN by logical topic name."
  value       = { for k, t in aws_sns_topic.this : k => t.arn }
}

output "alarm_topic_arn" {
  description = "ARN of the topic CloudWatch alarms publish to (null if it is not declared)."
  value       = try(aws_sns_topic.this[var.alarm_topic].arn, null)
}
