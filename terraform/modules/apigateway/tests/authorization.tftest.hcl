# Authorization of the ingest route: NONE in dev only, JWT scopes per route.

provider "aws" {
  region = "eu-west-1"
}

variables {
  name_prefix         = "t"
  environment         = "prod"
  function_name       = "t-ingest"
  function_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:t-ingest/invocations"
  kms_key_arn         = "arn:aws:kms:eu-west-1:123456789012:key/test"
  authorization       = "JWT"
  jwt_issuer          = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"
  jwt_audience        = ["client"]
}

run "jwt_with_scopes" {
  command = plan

  variables {
    jwt_scopes = { "POST /events" = ["events/write", "events/admin"] }
  }

  assert {
    condition     = aws_apigatewayv2_route.events.authorization_type == "JWT" && toset(aws_apigatewayv2_route.events.authorization_scopes) == toset(["events/write", "events/admin"])
    error_message = "the events route requires one of its scopes"
  }
}

run "jwt_without_scopes" {
  command = plan

  assert {
    condition     = aws_apigatewayv2_route.events.authorization_scopes == null
    error_message = "no scopes unless listed"
  }
}

run "none_outside_dev_is_rejected" {
  command = plan

  variables {
    authorization = "NONE"
  }

  expect_failures = [var.authorization]
}

run "none_in_dev" {
  command = plan

  variables {
    environment   = "dev"
    authorization = "NONE"
  }

  assert {
    condition     = aws_apigatewayv2_route.events.authorization_type == "NONE" && length(aws_apigatewayv2_authorizer.jwt) == 0
    error_message = "dev may run without authorization"
  }
}

run "scopes_need_jwt" {
  command = plan

  variables {
    authorization = "AWS_IAM"
    jwt_scopes    = { "POST /events" = ["events/write"] }
  }

  expect_failures = [var.jwt_scopes]
}

run "scopes_for_unknown_routes_are_rejected" {
  command = plan

  variables {
    jwt_scopes = { "GET /events" = ["events/read"] }
  }

  expect_failures = [var.jwt_scopes]
}
