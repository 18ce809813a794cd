output "api_id" {
  description = "Id of the HTTP API."
  value       = aws_apigatewayv2_api.this.id
}

output "endpoint" {
  description = "Base URL of the ingest API; POST CloudEvents to <endpoint>/events."
  value       = aws_apigatewayv2_api.this.api_endpoint
}
