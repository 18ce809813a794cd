resource "aws_apigatewayv2_api" "this" {
  name          = "${var.name_prefix}-ingest"
  description   = "CloudEvents ingest API (see api/openapi.yaml)."
  protocol_type = "HTTP"
  tags          = var.tags
}

resource "aws_apigatewayv2_integration" "ingest" {
  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_uri        = var.function_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = 10000
}

resource "aws_apigatewayv2_authorizer" "jwt" {
  count = var.authorization == "JWT" ? 1 : 0

  api_id           = aws_apigatewayv2_api.this.id
  name             = "jwt"
  authorizer_type  = "JWT"
  identity_sources = ["$request.header.Authorization"]

  jwt_configuration {
    issuer   = var.jwt_issuer
    audience = var.jwt_audience
  }

  lifecycle {
    precondition {
      condition     = var.jwt_issuer != null && length(var.jwt_audience) > 0
      error_message = "JWT authorization needs jwt_issuer and at least one jwt_audience."
    }
  }
}

resource "aws_apigatewayv2_route" "events" {
  api_id             = aws_apigatewayv2_api.this.id
  route_key          = "POST /events"
  target             = "integrations/${aws_apigatewayv2_integration.ingest.id}"
  authorization_type = var.authorization
  authorizer_id      = var.authorization == "JWT" ? aws_apigatewayv2_authorizer.jwt[0].id : null
  # API Gateway accepts a token that carries any one of the route's scopes.
  authorization_scopes = length(lookup(var.jwt_scopes, "POST /events", [])) > 0 ? var.jwt_scopes["POST /events"] : null
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name_prefix}-ingest"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "default" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit  = var.throttle.rate_limit
    throttling_burst_limit = var.throttle.burst_limit
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId      = "$context.requestId"
      ip             = "$context.identity.sourceIp"
      requestTime    = "$context.requestTime"
      routeKey       = "$context.routeKey"
      status         = "$context.status"
      responseLength = "$context.responseLength"
      latencyMs      = "$context.integrationLatency"
      error          = "$context.integrationErrorMessage"
    })
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  statement_id  = "apigateway-ingest"
  action        = "lambda:InvokeFunction"
  function_name = var.function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*/events"
}
