# The failure destination's for_each is keyed by function name and decided by
# failure_destination.enabled, both known at plan time; the queue's ARN, known
# only after apply, is only in the values. (Keyed on the ARN being null,
# Terraform could not plan: "Invalid for_each argument".)

provider "aws" {
  region = "eu-west-1"
}

run "arn_known_only_after_apply" {
  command = plan

  module {
    source = "./tests/unknown-queue"
  }

  variables {
    enabled = true
  }

  assert {
    condition     = output.function_names == { files = "t-files", ingest = "t-ingest" }
    error_message = "both functions are planned"
  }
}

run "disabled" {
  command = plan

  module {
    source = "./tests/unknown-queue"
  }

  variables {
    enabled = false
  }

  assert {
    condition     = length(output.function_names) == 2
    error_message = "the functions are planned without a failure destination"
  }
}

run "enabled_needs_a_queue" {
  command = plan

  variables {
    name_prefix         = "t"
    functions           = [{ name = "files", handler = "lambda-files" }]
    artifacts_dir       = "../../../build/lambda"
    kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/test"
    failure_destination = { enabled = true }
  }

  expect_failures = [var.failure_destination]
}
