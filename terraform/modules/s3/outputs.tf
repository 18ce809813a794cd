output "bucket_names" {
  description = "Physical bucket name by logical bucket name."
  value       = { for k, b in aws_s3_bucket.this : k => b.id }
}

output "bucket_arns" {
  description = "Bucket ARN by logical bucket name."
  value       = { for k, b in aws_s3_bucket.this : k => b.arn }
}
