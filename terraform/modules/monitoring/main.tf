data "aws_region" "current" {}

data "aws_caller_identity" "current" {}

locals {
  region     = data.aws_region.current.region
  severities = toset(["critical", "warning", "info"])
  # Every notification goes to its severity's topic (subscribe a pager to
  # critical, a chat webhook to warning, email to info) and to the shared
  # alarm topic (the alert_emails subscriptions).
  actions = { for s in local.severities : s => [aws_sns_topic.severity[s].arn, var.alarm_topic_arn] }
}

# --- one topic per severity -----------------------------------------------------

resource "aws_sns_topic" "severity" {
  for_each = local.severities

  name              = "${var.name_prefix}-alerts-${each.key}"
  kms_master_key_id = var.kms_key_arn
  tags              = merge(var.tags, { "eventplane:severity" = each.key })
}

data "aws_iam_policy_document" "severity" {
  for_each = local.severities

  statement {
    sid       = "OwnerAccount"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"]
    resources = [aws_sns_topic.severity[each.key].arn]
    principals {
      type        = "AWS"
      identifiers = [data.aws_caller_identity.current.account_id]
    }
  }
  statement {
    sid       = "CloudWatchAlarms"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.severity[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
  statement {
    sid       = "DailySummary"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.severity[each.key].arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.daily_summary.arn]
    }
  }
}

resource "aws_sns_topic_policy" "severity" {
  for_each = local.severities

  arn    = aws_sns_topic.severity[each.key].arn
  policy = data.aws_iam_policy_document.severity[each.key].json
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
    # EMF metrics the functions write (consumers/emf): namespace
    # var.emf_namespace, the rollup dimension set {function}.
    { for k, f in var.functions : "critical-emf-dead-lettered-${k}" => {
      description = "critical: ${f.name} sent events to its dead-letter queue (eventplane_messages_dead_lettered_total); read their reasons"
      namespace   = var.emf_namespace, metric = "eventplane_messages_dead_lettered_total", dimensions = { function = f.name }
      statistic   = "Sum", period = 300, periods = 1, threshold = 0, severity = "critical"
    } },
    { for k, f in var.functions : "warning-emf-failures-${k}" => {
      description = "warning: events handled by ${f.name} keep failing (eventplane_messages_failed_total) for 15 minutes"
      namespace   = var.emf_namespace, metric = "eventplane_messages_failed_total", dimensions = { function = f.name }
      statistic   = "Sum", period = 300, periods = 3, threshold = 0, severity = "warning"
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
  alarm_actions       = local.actions[each.value.severity]
  ok_actions          = each.value.severity == "critical" ? local.actions.critical : []
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
  alarm_actions       = local.actions.critical
  ok_actions          = local.actions.critical
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
  alarm_actions       = local.actions.warning
  tags                = merge(var.tags, { "eventplane:severity" = "warning" })
}

# warning: unusual traffic, events received by a function outside the band
# CloudWatch's anomaly detection learnt (2 standard deviations).
resource "aws_cloudwatch_metric_alarm" "unusual_traffic" {
  for_each = var.functions

  alarm_name          = "${var.name_prefix}-warning-unusual-traffic-${each.key}"
  alarm_description   = "warning: ${each.value.name} receives unusually many or few events (eventplane_messages_received_total outside its anomaly band)"
  comparison_operator = "LessThanLowerOrGreaterThanUpperThreshold"
  evaluation_periods  = 3
  threshold_metric_id = "band"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions.warning
  tags                = merge(var.tags, { "eventplane:severity" = "warning" })

  metric_query {
    id          = "received"
    return_data = true
    metric {
      namespace   = var.emf_namespace
      metric_name = "eventplane_messages_received_total"
      dimensions  = { function = each.value.name }
      period      = 300
      stat        = "Sum"
    }
  }
  metric_query {
    id          = "band"
    expression  = "ANOMALY_DETECTION_BAND(received, 2)"
    label       = "Expected events"
    return_data = true
  }
}

# --- info: a daily summary ----------------------------------------------------

resource "aws_cloudwatch_event_rule" "daily_summary" {
  name                = "${var.name_prefix}-info-daily-summary"
  description         = "info: daily pointer to the platform dashboard"
  schedule_expression = var.daily_summary_cron
  tags                = merge(var.tags, { "eventplane:severity" = "info" })
}

moved {
  from = aws_cloudwatch_event_target.daily_summary
  to   = aws_cloudwatch_event_target.daily_summary["alarm-topic"]
}

resource "aws_cloudwatch_event_target" "daily_summary" {
  for_each = { alarm-topic = var.alarm_topic_arn, info-topic = aws_sns_topic.severity["info"].arn }

  rule      = aws_cloudwatch_event_rule.daily_summary.name
  target_id = each.key
  arn       = each.value

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
      # The Grafana dashboard's panels whose data is in CloudWatch: the EMF
      # metrics of the functions (consumers/emf), same names as on /metrics.
      {
        type = "metric", x = 0, y = 18, width = 8, height = 6
        properties = {
          title = "Events received and processed (EMF)", region = local.region, stat = "Sum", period = 300
          metrics = concat(
            [for f in values(var.functions) : [var.emf_namespace, "eventplane_messages_received_total", "function", f.name]],
            [{ expression = "SEARCH('{${var.emf_namespace},function,route} MetricName=\"eventplane_events_processed_total\"', 'Sum', 300)", label = "processed", id = "processed" }],
          )
        }
      },
      {
        type = "metric", x = 8, y = 18, width = 8, height = 6
        properties = {
          title = "Handler latency p50 / p95 / p99 (EMF)", region = local.region, period = 300
          metrics = flatten([for f in values(var.functions) : [
            for p in ["p50", "p95", "p99"] : [var.emf_namespace, "eventplane_handler_duration_seconds", "function", f.name, { stat = p, label = "${f.name} ${p}" }]
          ]])
        }
      },
      {
        type = "metric", x = 16, y = 18, width = 8, height = 6
        properties = {
          title = "Failures and DLQ writes by reason (EMF)", region = local.region, period = 300
          metrics = [
            [{ expression = "SEARCH('{${var.emf_namespace},function,reason} MetricName=\"eventplane_messages_failed_total\"', 'Sum', 300)", label = "failed", id = "failed" }],
            [{ expression = "SEARCH('{${var.emf_namespace},function,reason} MetricName=\"eventplane_messages_dead_lettered_total\"', 'Sum', 300)", label = "dead-lettered", id = "dlq" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 24, width = 12, height = 6
        properties = {
          title = "AWS requests per event by API (EMF)", region = local.region, period = 300
          metrics = flatten([for i, f in values(var.functions) : [
            [{ expression = "SEARCH('{${var.emf_namespace},api,function,service} MetricName=\"eventplane_aws_requests_total\" function=\"${f.name}\"', 'Sum', 300) / r${i}", label = f.name, id = "perevent${i}" }],
            [var.emf_namespace, "eventplane_messages_received_total", "function", f.name, { stat = "Sum", id = "r${i}", visible = false }],
          ]])
        }
      },
      {
        type = "metric", x = 12, y = 24, width = 12, height = 6
        properties = {
          title   = "Duplicates skipped (EMF)", region = local.region, stat = "Sum", period = 300
          metrics = [for f in values(var.functions) : [var.emf_namespace, "eventplane_duplicates_skipped_total", "function", f.name]]
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

# Account- and region-wide: every environment applying it would overwrite
# the others' key, so exactly one environment (manage_xray_encryption) owns it.
resource "aws_xray_encryption_config" "this" {
  count = var.manage_xray_encryption ? 1 : 0

  type   = "KMS"
  key_id = var.kms_key_arn
}
