output "bus_names" {
  description = "Physical bus name by logical bus name."
  value       = { for k, b in aws_cloudwatch_event_bus.this : k => b.name }
}

output "bus_arns" {
  description = "Bus ARN by logical bus name."
  value       = { for k, b in aws_cloudwatch_event_bus.this : k => b.arn }
}

output "archive_arns" {
  description = "Archive ARN by logical bus name (replay with StartReplay)."
  value       = { for k, a in aws_cloudwatch_event_archive.this : k => a.arn }
}

output "rule_arns" {
  description = "Rule ARN by logical rule name (schedules included)."
  value = merge(
    { for k, r in aws_cloudwatch_event_rule.this : k => r.arn },
    { for k, r in aws_cloudwatch_event_rule.schedule : k => r.arn },
  )
}
