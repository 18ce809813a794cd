output "platform" {
  description = "Every output of the platform module (queue URLs, role ARNs, bus, tables, buckets, region): hack/helm-values.sh turns it into Helm values."
  value       = module.platform
}
