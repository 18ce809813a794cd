data "aws_caller_identity" "current" {}

locals {
  topics = { for t in var.topics : t.name => t }
  subscriptions = merge([for t in var.topics : {
    for s in t.subscriptions : "${t.name}/${s.queue}" => merge(s, { topic = t.name })
  }]...)
}

resource "aws_sns_topic" "this" {
  for_each = local.topics

  name              = "${var.name_prefix}-${each.key}"
  kms_master_key_id = var.kms_key_arn
  tags              = merge(var.tags, { "eventplane:topic" = each.key })
}

data "aws_iam_policy_document" "topic" {
  for_each = local.topics

  statement {
    sid       = "OwnerAccount"
    actions   = ["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic"]
    resources = [aws_sns_topic.this[each.key].arn]
    principals {
      type        = "AWS"
      identifiers = [data.aws_caller_identity.current.account_id]
    }
  }

  dynamic "statement" {
    for_each = length(lookup(var.publishers, each.key, [])) > 0 ? [1] : []
    content {
      sid       = "EventBridgeRules"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this[each.key].arn]
      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = var.publishers[each.key]
      }
    }
  }

  dynamic "statement" {
    for_each = each.key == var.alarm_topic ? [1] : []
    content {
      sid       = "CloudWatchAlarms"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.this[each.key].arn]
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
  }
}

resource "aws_sns_topic_policy" "this" {
  for_each = local.topics

  arn    = aws_sns_topic.this[each.key].arn
  policy = data.aws_iam_policy_document.topic[each.key].json
}

resource "aws_sns_topic_subscription" "queue" {
  for_each = local.subscriptions

  topic_arn            = aws_sns_topic.this[each.value.topic].arn
  protocol             = "sqs"
  endpoint             = var.queue_arns[each.value.queue]
  raw_message_delivery = each.value.rawMessageDelivery
  filter_policy        = each.value.filterPolicy
  filter_policy_scope  = each.value.filterPolicy == null ? null : each.value.filterPolicyScope
}

resource "aws_sns_topic_subscription" "email" {
  for_each = contains(keys(local.topics), var.alarm_topic) ? toset(var.alert_emails) : toset([])

  topic_arn = aws_sns_topic.this[var.alarm_topic].arn
  protocol  = "email"
  endpoint  = each.value
}
