data "aws_region" "current" {}

locals {
  region = data.aws_region.current.region
}

# Single-metric alarms, one spec per alarm; the alarm name carries its
# severity (critical: failing or losing work; warning: falling behind).
locals {
  metric_alarms = merge(
    { for k, q in var.dead_letter_queues : "critical-dlq-${k}" => {
      description = "critical: messages in the dead-letter queue ${q}; inspect and redrive them"
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = q }
      statistic   = "Maximum", period = 60, periods = 1, threshold = 0, severity = "critical"
    } },
    { for k, f in var.functions : "critical-lambda-errors-${k}" => {
      description = "critical: function ${f.name} returned errors"
      namespace   = "AWS/Lambda", metric = "Errors", dimensions = { FunctionName = f.name }
      statistic   = "Sum", period = 300, periods = 1, threshold = 0, severity = "critical"
    } },
    { for k, r in var.rules : "critical-eventbridge-failed-${k}" => {
      description = "critical: rule ${r.name} failed to deliver events to its targets"
      namespace   = "AWS/Events", metric = "FailedInvocations"
      dimensions  = r.bus == "default" ? { RuleName = r.name } : { RuleName = r.name, EventBusName = r.bus }
      statistic   = "Sum", period = 300, periods = 1, threshold = 0, severity = "critical"
    } },
    { for k, q in var.queues : "warning-queue-depth-${k}" => {
      description = "warning: ${q} holds more than ${var.thresholds.queue_depth} messages; consumers are falling behind (check KEDA's max replicas)"
      namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = q }
      statistic   = "Maximum", period = 300, periods = 3, threshold = var.thresholds.queue_depth, severity = "warning"
    } },
    { for k, q in var.queues : "warning-queue-age-${k}" => {
      description = "warning: the oldest message in ${q} is older than ${var.thresholds.oldest_message_age_s}s"
      namespace   = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage", dimensions = { QueueName = q }
      statistic   = "Maximum", period = 300, periods = 2, threshold = var.thresholds.oldest_message_age_s, severity = "warning"
    } },
    { for k, f in var.functions : "warning-lambda-throttles-${k}" => {
      description = "warning: invocations of ${f.name} are throttled (reserved concurrency reached)"
      namespace   = "AWS/Lambda", metric = "Throttles", dimensions = { FunctionName = f.name }
      statistic   = "Sum", period = 300, periods = 1, threshold = 0, severity = "warning"
    } },
  )
}

resource "aws_cloudwatch_metric_alarm" "metric" {
  for_each = local.metric_alarms

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.periods
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = each.value.severity == "critical" ? [var.alarm_topic_arn] : []
  tags                = merge(var.tags, { "eventplane:severity" = each.value.severity })
}

# critical: DynamoDB throttles, reads and writes summed.
resource "aws_cloudwatch_metric_alarm" "dynamodb_throttles" {
  for_each = var.tables

  alarm_name          = "${var.name_prefix}-critical-dynamodb-throttles-${each.key}"
  alarm_description   = "critical: requests to table ${each.value} are throttled"
  comparison_operator = "GreaterThanThreshold"
  evaluation_periods  = 1
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = merge(var.tags, { "eventplane:severity" = "critical" })

  metric_query {
    id          = "throttles"
    expression  = "reads + writes"
    label       = "Throttled requests"
    return_data = true
  }
  metric_query {
    id = "reads"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "ReadThrottleEvents"
      dimensions  = { TableName = each.value }
      period      = 300
      stat        = "Sum"
    }
  }
  metric_query {
    id = "writes"
    metric {
      namespace   = "AWS/DynamoDB"
      metric_name = "WriteThrottleEvents"
      dimensions  = { TableName = each.value }
      period      = 300
      stat        = "Sum"
    }
  }
}

# warning: Lambda p95 duration near its timeout (an extended statistic).
resource "aws_cloudwatch_metric_alarm" "lambda_duration" {
  for_each = var.functions

  alarm_name          = "${var.name_prefix}-warning-lambda-duration-${each.key}"
  alarm_description   = "warning: p95 duration of ${each.value.name} is above ${var.thresholds.duration_ratio * 100}% of its timeout"
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = each.value.name }
  extended_statistic  = "p95"
  period              = 300
  evaluation_periods  = 3
  threshold           = each.value.timeout_seconds * 1000 * var.thresholds.duration_ratio
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  tags                = merge(var.tags, { "eventplane:severity" = "warning" })
}

# --- info: a daily summary ----------------------------------------------------

resource "aws_cloudwatch_event_rule" "daily_summary" {
  name                = "${var.name_prefix}-info-daily-summary"
  description         = "info: daily pointer to the platform dashboard"
  schedule_expression = var.daily_summary_cron
  tags                = merge(var.tags, { "eventplane:severity" = "info" })
}

resource "aws_cloudwatch_event_target" "daily_summary" {
  rule      = aws_cloudwatch_event_rule.daily_summary.name
  target_id = "alarm-topic"
  arn       = var.alarm_topic_arn

  input_transformer {
    input_paths    = { time = "$.time" }
    input_template = "\"info: eventplane ${var.name_prefix} daily summary at <time>: https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${var.name_prefix}\""
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({
    widgets = [
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title   = "Queue depth", region = local.region, stat = "Maximum", period = 60
          metrics = [for q in values(var.queues) : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title   = "Age of oldest message (s)", region = local.region, stat = "Maximum", period = 60
          metrics = [for q in values(var.queues) : ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", q]]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title   = "Dead-letter queues", region = local.region, stat = "Maximum", period = 60
          metrics = [for q in values(var.dead_letter_queues) : ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", q]]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title = "Lambda errors and throttles", region = local.region, stat = "Sum", period = 300
          metrics = concat(
            [for f in values(var.functions) : ["AWS/Lambda", "Errors", "FunctionName", f.name]],
            [for f in values(var.functions) : ["AWS/Lambda", "Throttles", "FunctionName", f.name]],
          )
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title   = "DynamoDB consumed write capacity", region = local.region, stat = "Sum", period = 300
          metrics = [for t in values(var.tables) : ["AWS/DynamoDB", "ConsumedWriteCapacityUnits", "TableName", t]]
        }
      },
      {
        type = "metric", x = 12, y = 12, width = 12, height = 6
        properties = {
          title   = "EventBridge failed invocations", region = local.region, stat = "Sum", period = 300
          metrics = [for r in values(var.rules) : r.bus == "default" ? ["AWS/Events", "FailedInvocations", "RuleName", r.name] : ["AWS/Events", "FailedInvocations", "RuleName", r.name, "EventBusName", r.bus]]
        }
      },
    ]
  })
}

resource "aws_xray_sampling_rule" "this" {
  rule_name      = substr("${var.name_prefix}-default", 0, 32)
  priority       = 1000
  version        = 1
  reservoir_size = var.xray_sampling.reservoir
  fixed_rate     = var.xray_sampling.fixed_rate
  url_path       = "*"
  host           = "*"
  http_method    = "*"
  service_type   = "*"
  service_name   = "${var.name_prefix}-*"
  resource_arn   = "*"
  tags           = var.tags
}

resource "aws_xray_encryption_config" "this" {
  type   = "KMS"
  key_id = var.kms_key_arn
}
