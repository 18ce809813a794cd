output "endpoint_known" {
  description = "Whether the endpoint is known at plan time (it is not)."
  value       = can(regex(".", module.rds.endpoint))
}
