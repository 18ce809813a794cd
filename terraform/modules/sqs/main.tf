locals {
  queues = { for q in var.queues : q.name => q }

  # Physical names: <prefix>-<name>, keeping the .fifo suffix last.
  physical = { for name, q in local.queues : name => "${var.name_prefix}-${trimsuffix(name, ".fifo")}${q.fifo ? ".fifo" : ""}" }
  dlq_physical = { for name, q in local.queues : name => "${var.name_prefix}-${trimsuffix(name, ".fifo")}-dlq${q.fifo ? ".fifo" : ""}"
  if q.deadLetter }
}

resource "aws_sqs_queue" "dlq" {
  for_each = local.dlq_physical

  name                              = each.value
  fifo_queue                        = local.queues[each.key].fifo
  message_retention_seconds         = var.dlq_retention_seconds
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = merge(var.tags, { "eventplane:queue" = each.key, "eventplane:role" = "dead-letter" })
}

resource "aws_sqs_queue" "this" {
  for_each = local.queues

  name                              = local.physical[each.key]
  fifo_queue                        = each.value.fifo
  content_based_deduplication       = each.value.fifo ? true : null
  visibility_timeout_seconds        = each.value.visibilityTimeoutSeconds
  message_retention_seconds         = each.value.retentionSeconds
  delay_seconds                     = each.value.delaySeconds
  receive_wait_time_seconds         = 20
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  redrive_policy = each.value.deadLetter ? jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq[each.key].arn
    maxReceiveCount     = each.value.maxReceiveCount
  }) : null
  tags = merge(var.tags, { "eventplane:queue" = each.key })
}

# Only the queue that feeds a dead-letter queue may redrive into it.
resource "aws_sqs_queue_redrive_allow_policy" "dlq" {
  for_each = local.dlq_physical

  queue_url = aws_sqs_queue.dlq[each.key].id
  redrive_allow_policy = jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = [aws_sqs_queue.this[each.key].arn]
  })
}

data "aws_iam_policy_document" "queue" {
  for_each = local.queues

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    resources = [aws_sqs_queue.this[each.key].arn]
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  dynamic "statement" {
    for_each = lookup(var.senders, each.key, [])
    content {
      sid       = "AllowSend${statement.key}"
      actions   = ["sqs:SendMessage"]
      resources = [aws_sqs_queue.this[each.key].arn]
      principals {
        type        = "Service"
        identifiers = [statement.value.service]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [statement.value.source_arn]
      }
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  for_each = local.queues

  queue_url = aws_sqs_queue.this[each.key].id
  policy    = data.aws_iam_policy_document.queue[each.key].json
}
