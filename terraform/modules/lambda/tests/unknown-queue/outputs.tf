output "function_names" {
  description = "The functions' names."
  value       = module.lambda.function_names
}
