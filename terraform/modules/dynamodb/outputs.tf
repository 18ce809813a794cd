output "table_names" {
  description = "Physical table name by logical table name."
  value       = { for k, t in aws_dynamodb_table.this : k => t.name }
}

output "table_arns" {
  description = "Table ARN by logical table name."
  value       = { for k, t in aws_dynamodb_table.this : k => t.arn }
}
