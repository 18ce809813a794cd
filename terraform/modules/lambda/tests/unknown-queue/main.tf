# The lambda module with a failure destination whose ARN is known only after
# apply, as the root module passes it (the eventbridge-dlq queue).
resource "aws_sqs_queue" "dlq" {
  name              = "t-failures"
  kms_master_key_id = "arn:aws:kms:eu-west-1:123456789012:key/test"
}

module "lambda" {
  source = "../.."

  name_prefix         = "t"
  functions           = [{ name = "files", handler = "lambda-files" }, { name = "ingest", handler = "lambda-ingest" }]
  artifacts_dir       = "${path.module}/../../../../../build/lambda"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/test"
  failure_destination = { enabled = var.enabled, queue_arn = aws_sqs_queue.dlq.arn }
}
