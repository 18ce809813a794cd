output "function_arns" {
  description = "Function ARN by logical function name."
  value       = { for k, f in aws_lambda_function.this : k => f.arn }
}

output "function_names" {
  description = "Physical function name by logical function name."
  value       = { for k, f in aws_lambda_function.this : k => f.function_name }
}

output "invoke_arns" {
  description = "Invoke ARN (for API Gateway integrations) by logical function name."
  value       = { for k, f in aws_lambda_function.this : k => f.invoke_arn }
}

output "role_arns" {
  description = "Execution role ARN by logical function name."
  value       = { for k, r in aws_iam_role.this : k => r.arn }
}
