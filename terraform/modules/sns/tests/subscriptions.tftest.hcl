# Subscriptions of different shapes in one list (filter policy or none, scope
# or none), applied against a mock of the aws provider (its real schema).

mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = { json = "{}" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
}

variables {
  name_prefix = "t"
  kms_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/test"
  queue_arns = {
    a = "arn:aws:sqs:eu-west-1:123456789012:t-a"
    b = "arn:aws:sqs:eu-west-1:123456789012:t-b"
  }
  topics = [
    {
      name = "events"
      subscriptions = [
        { queue = "a" },
        { queue = "b", rawMessageDelivery = false, filterPolicyScope = "MessageBody", filterPolicy = "{\"detail\":{\"total\":[{\"numeric\":[\">\",1000]}]}}" },
      ]
    },
    { name = "alerts" },
  ]
}

run "subscriptions_of_different_shapes" {
  assert {
    condition     = aws_sns_topic_subscription.queue["events/a"].filter_policy == null && aws_sns_topic_subscription.queue["events/a"].raw_message_delivery
    error_message = "a: no filter policy, raw delivery by default"
  }
  assert {
    condition     = jsondecode(aws_sns_topic_subscription.queue["events/b"].filter_policy) == { detail = { total = [{ numeric = [">", 1000] }] } }
    error_message = "b: its filter policy"
  }
  assert {
    condition     = aws_sns_topic_subscription.queue["events/b"].filter_policy_scope == "MessageBody" && !aws_sns_topic_subscription.queue["events/b"].raw_message_delivery
    error_message = "b: body scope, envelope delivery"
  }
  assert {
    condition     = aws_sns_topic_subscription.queue["events/b"].endpoint == "arn:aws:sqs:eu-west-1:123456789012:t-b"
    error_message = "b delivers to queue b"
  }
}

run "filter_policy_must_be_json" {
  command = plan

  variables {
    topics = [{ name = "events", subscriptions = [{ queue = "a", filterPolicy = "{not json" }] }]
  }

  expect_failures = [var.topics]
}
