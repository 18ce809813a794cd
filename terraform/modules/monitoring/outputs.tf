output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "daily_summary_rule_arn" {
  description = "ARN of the rule that sends the daily summary (it must be allowed to publish to the alarm topic)."
  value       = aws_cloudwatch_event_rule.daily_summary.arn
}

output "critical_alarm_names" {
  description = "Names of the critical alarms."
  value = concat(
    [for k, a in aws_cloudwatch_metric_alarm.metric : a.alarm_name if startswith(k, "critical-")],
    [for a in aws_cloudwatch_metric_alarm.dynamodb_throttles : a.alarm_name],
  )
}

output "severity_topic_arns" {
  description = "SNS topics per severity (critical, warning, info): subscribe a pager, a chat webhook and email to them."
  value       = { for k, t in aws_sns_topic.severity : k => t.arn }
}
