# The lambda module with a failure destination whose ARN is known only after
# apply, as the root module passes it (the eventbridge-dlq queue).
terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "enabled" {
  description = "Whether the functions get the failure destination."
  type        = bool
}

resource "aws_sqs_queue" "dlq" {
  name = "t-failures"
}

module "lambda" {
  source = "../.."

  name_prefix         = "t"
  functions           = [{ name = "files", handler = "lambda-files" }, { name = "ingest", handler = "lambda-ingest" }]
  artifacts_dir       = "${path.module}/../../../../../build/lambda"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/test"
  failure_destination = { enabled = var.enabled, queue_arn = aws_sqs_queue.dlq.arn }
}

output "function_names" {
  description = "The functions' names."
  value       = module.lambda.function_names
}

output "queue_arn_known" {
  description = "Whether the queue's ARN is known at plan time (it is not)."
  value       = can(regex(".", aws_sqs_queue.dlq.arn))
}
