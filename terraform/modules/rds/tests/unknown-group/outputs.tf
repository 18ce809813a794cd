output "endpoint" {
  description = "The database's endpoint (known only after apply)."
  value       = module.rds.endpoint
}
