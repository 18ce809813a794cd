data "aws_partition" "current" {}

locals {
  functions = { for f in var.functions : f.name => f }
  zip       = { for name, f in local.functions : name => "${var.artifacts_dir}/${f.handler}-${var.architecture == "arm64" ? "arm64" : "amd64"}.zip" }
}

resource "aws_cloudwatch_log_group" "this" {
  for_each = local.functions

  name              = "/aws/lambda/${var.name_prefix}-${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each = local.functions

  name               = "${var.name_prefix}-lambda-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  for_each = local.functions

  statement {
    sid       = "OwnLogGroup"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
  }

  statement {
    sid       = "DecryptEnvironment"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
  }

  dynamic "statement" {
    for_each = var.failure_destination.enabled ? [var.failure_destination.queue_arn] : []
    content {
      sid       = "FailureDestination"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value]
    }
  }

  # The event source mapping polls with the function's role.
  dynamic "statement" {
    for_each = each.value.queue_trigger == null ? [] : [each.value.queue_trigger.queue_arn]
    content {
      sid       = "ConsumeTrigger"
      actions   = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"]
      resources = [statement.value]
    }
  }
  dynamic "statement" {
    for_each = try(each.value.queue_trigger.dlq_arn, null) == null ? [] : [each.value.queue_trigger.dlq_arn]
    content {
      sid       = "DeadLetterOwnMessages"
      actions   = ["sqs:SendMessage"]
      resources = [statement.value]
    }
  }

  dynamic "statement" {
    for_each = lookup(var.permissions, each.key, [])
    content {
      actions   = statement.value.actions
      resources = statement.value.resources
    }
  }
}

resource "aws_iam_role_policy" "this" {
  for_each = local.functions

  name   = "function"
  role   = aws_iam_role.this[each.key].id
  policy = data.aws_iam_policy_document.function[each.key].json
}

# X-Ray's PutTraceSegments has no resource-level permissions; the managed
# policy grants exactly the trace-writing actions.
resource "aws_iam_role_policy_attachment" "xray" {
  for_each = local.functions

  role       = aws_iam_role.this[each.key].name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name                  = "${var.name_prefix}-${each.key}"
  description                    = each.value.description
  role                           = aws_iam_role.this[each.key].arn
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = local.zip[each.key]
  source_code_hash               = fileexists(local.zip[each.key]) ? filebase64sha256(local.zip[each.key]) : null
  memory_size                    = each.value.memoryMb
  timeout                        = each.value.timeoutSeconds
  reserved_concurrent_executions = each.value.reservedConcurrency
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = merge({ EVENTPLANE_FUNCTION = each.key }, each.value.environment)
  }

  tracing_config {
    mode = "Active"
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this[each.key].name
  }

  lifecycle {
    precondition {
      condition     = fileexists(local.zip[each.key])
      error_message = "Missing ${local.zip[each.key]}: run `make lambda` first."
    }
  }

  tags = merge(var.tags, { "eventplane:function" = each.key })
}

resource "aws_lambda_function_event_invoke_config" "this" {
  # Keyed by function name (static); the queue's ARN is only in the values.
  for_each = var.failure_destination.enabled ? local.functions : {}

  function_name                = aws_lambda_function.this[each.key].function_name
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 3600

  destination_config {
    on_failure {
      destination = var.failure_destination.queue_arn
    }
  }
}

# lambda-sqs: the queue polls into the function. Partial batch responses
# (ReportBatchItemFailures) return only the failed records, as the function
# reports them (consumers/cmd/lambda-sqs); a batch larger than 10 needs a
# batching window of at least 1 s (Lambda's CreateEventSourceMapping).
resource "aws_lambda_event_source_mapping" "queue" {
  # Keyed by function name (static); the queue's ARN is only in the values.
  for_each = { for name, f in local.functions : name => f if f.queue_trigger != null }

  event_source_arn                   = each.value.queue_trigger.queue_arn
  function_name                      = aws_lambda_function.this[each.key].arn
  batch_size                         = coalesce(each.value.queue_trigger.batch_size, 10)
  maximum_batching_window_in_seconds = coalesce(each.value.queue_trigger.batch_size, 10) > 10 ? 1 : null
  function_response_types            = ["ReportBatchItemFailures"]

  # Lambda checks the role can poll when the mapping is created.
  depends_on = [aws_iam_role_policy.this]

  tags = merge(var.tags, { "eventplane:function" = each.key })
}
