output "key_arn" {
  description = "ARN of the platform's customer-managed KMS key."
  value       = aws_kms_key.this.arn
}

output "key_id" {
  description = "Id of the platform's customer-managed KMS key."
  value       = aws_kms_key.this.key_id
}

output "alias" {
  description = "Alias of the key."
  value       = aws_kms_alias.this.name
}
