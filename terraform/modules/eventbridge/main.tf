data "aws_caller_identity" "current" {}

locals {
  buses = { for b in var.buses : b.name => b }
  rules = { for r in var.rules : r.name => r }
  targets = merge([for r in var.rules : {
    for i, t in r.targets : "${r.name}/${i}" => merge(t, { rule = r.name })
  }]...)
  schedules = { for s in var.schedules : s.name => s }

  bus_name = { for name, b in local.buses : name => "${var.name_prefix}-${name}" }
}

resource "aws_cloudwatch_event_bus" "this" {
  for_each = local.buses

  name = local.bus_name[each.key]
  tags = merge(var.tags, { "eventplane:bus" = each.key })
}

resource "aws_cloudwatch_event_archive" "this" {
  for_each = { for k, b in local.buses : k => b if b.archive != null }

  name             = "${local.bus_name[each.key]}-archive"
  description      = "All events of the ${each.key} bus, for replay."
  event_source_arn = aws_cloudwatch_event_bus.this[each.key].arn
  retention_days   = each.value.archive.retentionDays
}

data "aws_iam_policy_document" "bus" {
  for_each = local.buses

  statement {
    sid       = "PutEventsFromAllowedAccounts"
    actions   = ["events:PutEvents"]
    resources = [aws_cloudwatch_event_bus.this[each.key].arn]
    principals {
      type        = "AWS"
      identifiers = concat([data.aws_caller_identity.current.account_id], var.put_events_account_ids)
    }
  }
}

resource "aws_cloudwatch_event_bus_policy" "this" {
  for_each = local.buses

  event_bus_name = aws_cloudwatch_event_bus.this[each.key].name
  policy         = data.aws_iam_policy_document.bus[each.key].json
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.rules

  name           = "${var.name_prefix}-${each.key}"
  description    = each.value.description
  event_bus_name = each.value.bus == "default" ? "default" : aws_cloudwatch_event_bus.this[each.value.bus].name
  event_pattern  = each.value.pattern
  tags           = merge(var.tags, { "eventplane:rule" = each.key })
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.targets

  rule           = aws_cloudwatch_event_rule.this[each.value.rule].name
  event_bus_name = aws_cloudwatch_event_rule.this[each.value.rule].event_bus_name
  target_id      = replace(each.key, "/", "-")
  arn = coalesce(
    each.value.queue == null ? null : var.queue_arns[each.value.queue],
    each.value.topic == null ? null : var.topic_arns[each.value.topic],
    each.value.lambda == null ? null : var.lambda_arns[each.value.lambda],
  )
  input_path = each.value.inputPath

  # PutTargets refuses a FIFO queue target without SqsParameters'
  # MessageGroupId ("required for FIFO queues"); one group keeps the rule's
  # order, as the local bus and `eventplane bootstrap` do.
  dynamic "sqs_target" {
    for_each = each.value.queue != null && endswith(coalesce(each.value.queue, "-"), ".fifo") ? [1] : []
    content {
      message_group_id = "eventbridge"
    }
  }

  dynamic "input_transformer" {
    for_each = each.value.inputTransformer == null ? [] : [each.value.inputTransformer]
    content {
      input_paths    = input_transformer.value.inputPaths
      input_template = input_transformer.value.inputTemplate
    }
  }

  retry_policy {
    maximum_retry_attempts       = each.value.retry.maximumRetryAttempts
    maximum_event_age_in_seconds = each.value.retry.maximumEventAgeSeconds
  }

  dynamic "dead_letter_config" {
    for_each = each.value.deadLetterQueue == null ? [] : [each.value.deadLetterQueue]
    content {
      arn = var.queue_arns[dead_letter_config.value]
    }
  }
}

# Schedules are rules with a schedule expression on the default bus: the
# queue receives EventBridge "Scheduled Event" events.
resource "aws_cloudwatch_event_rule" "schedule" {
  for_each = local.schedules

  name                = "${var.name_prefix}-${each.key}"
  description         = each.value.description
  schedule_expression = each.value.expression
  tags                = merge(var.tags, { "eventplane:schedule" = each.key })
}

resource "aws_cloudwatch_event_target" "schedule" {
  for_each = local.schedules

  rule      = aws_cloudwatch_event_rule.schedule[each.key].name
  target_id = "queue"
  arn       = var.queue_arns[each.value.queue]

  dynamic "sqs_target" {
    for_each = endswith(each.value.queue, ".fifo") ? [1] : []
    content {
      message_group_id = "eventbridge"
    }
  }

  retry_policy {
    maximum_retry_attempts       = 8
    maximum_event_age_in_seconds = 3600
  }
}

# A rule that targets a function may invoke it: only that rule.
resource "aws_lambda_permission" "rule" {
  for_each = { for k, t in local.targets : k => t if t.lambda != null }

  statement_id  = "eventbridge-${replace(each.key, "/", "-")}"
  action        = "lambda:InvokeFunction"
  function_name = var.lambda_arns[each.value.lambda]
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.this[each.value.rule].arn
}
