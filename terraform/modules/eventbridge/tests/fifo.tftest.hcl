# EventBridge's PutTargets refuses a FIFO queue target without a
# MessageGroupId (SqsParameters: "required for FIFO queues"); plan cannot see
# that, apply fails. Planned against a mock of the aws provider (its real
# schema).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
}

variables {
  name_prefix = "t"
  buses       = []
  queue_arns = {
    plain       = "arn:aws:sqs:eu-west-1:123456789012:t-plain"
    "jobs.fifo" = "arn:aws:sqs:eu-west-1:123456789012:t-jobs.fifo"
  }
  rules = [{
    name    = "both"
    bus     = "default"
    pattern = "{\"source\":[\"x\"]}"
    targets = [{ queue = "plain" }, { queue = "jobs.fifo" }]
  }]
  schedules = [{ name = "tick", expression = "rate(1 hour)", queue = "jobs.fifo" }]
}

run "fifo_targets_carry_a_message_group" {
  command = plan

  assert {
    condition     = length(aws_cloudwatch_event_target.this["both/0"].sqs_target) == 0
    error_message = "a standard queue target has no sqs_target"
  }
  assert {
    condition     = aws_cloudwatch_event_target.this["both/1"].sqs_target[0].message_group_id == "eventbridge"
    error_message = "a FIFO queue target carries a message group"
  }
  assert {
    condition     = aws_cloudwatch_event_target.schedule["tick"].sqs_target[0].message_group_id == "eventbridge"
    error_message = "a schedule on a FIFO queue carries a message group"
  }
}
